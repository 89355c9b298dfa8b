"""The sandbox payment provider: a pretend provider that lives inside Siyu.

It keeps its own records (``SandboxTransaction``, ``SandboxRefund``,
``SandboxNotification``), shows its own pay page at ``/sandbox/pay/<token>/``
and POSTs signed notifications to the merchant's notify URL from a background
task, retrying until it gets a 2xx — as a real provider does. The merchant side
talks to it only through the ``SandboxGateway`` adapter and HTTP.
"""
