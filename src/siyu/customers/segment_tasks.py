"""Background tasks of tags and segments (django.tasks): the nightly auto-tag run."""

from __future__ import annotations

from django.tasks import task


@task()
def run_auto_tag_rules() -> dict[str, int]:
    """Run every active auto-tag rule of every merchant, then recount the saved segments."""
    from siyu.customers import autotag, segment_services

    totals = autotag.run_all_rules()
    totals["segments"] = segment_services.refresh_all_counts()
    return totals
