"""The community's service functions (the contract other apps call: docs/community.md).

Split by meaning: groups and members (:mod:`.services_groups`), join codes and scans
(:mod:`.services_codes`), auto-replies (:mod:`.services_replies`), the chat (:mod:`.chat`).
"""

from __future__ import annotations

from siyu.community.chat import (
    direct_conversation,
    group_conversation,
    inbox_conversation,
    mark_read,
    post_message,
    post_to_groups,
)
from siyu.community.services_codes import (
    CHOOSE_STORE,
    ScanResult,
    create_code,
    record_visit,
    scan,
    update_code,
)
from siyu.community.services_groups import (
    archive_group,
    create_group,
    join_group,
    leave_group,
    mute_member,
    remove_member,
    unmute_member,
    update_group,
)
from siyu.community.services_replies import (
    create_auto_reply,
    delete_auto_reply,
    update_auto_reply,
)

__all__ = [
    "CHOOSE_STORE",
    "ScanResult",
    "archive_group",
    "create_auto_reply",
    "create_code",
    "create_group",
    "delete_auto_reply",
    "direct_conversation",
    "group_conversation",
    "inbox_conversation",
    "join_group",
    "leave_group",
    "mark_read",
    "mute_member",
    "post_message",
    "post_to_groups",
    "record_visit",
    "remove_member",
    "scan",
    "unmute_member",
    "update_auto_reply",
    "update_code",
    "update_group",
]
