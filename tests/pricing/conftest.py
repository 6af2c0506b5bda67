from tests.approvals.conftest import (  # noqa: F401
    _no_investigation_gates,
    _no_shared_queue_counts,
    in_approval,
    matrix,
)
