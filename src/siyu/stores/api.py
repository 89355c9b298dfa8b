from ninja import Router

router = Router(tags=["stores"])
staff_router = Router(tags=["staff"])
