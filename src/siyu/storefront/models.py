"""The storefront has no tables of its own: it shows other apps' data to customers."""
