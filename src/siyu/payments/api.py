from ninja import Router

router = Router(tags=["payments"])
notify_router = Router(tags=["payments"], auth=None)
