"""Who may handle a complaint, as a django-rules predicate `(user, complaint)`: the
relationship manager it was given to (when the company has none, any relationship manager
whose branch subtree holds the complaint's branch), or a branch head whose branch subtree
holds the complaint's branch (the company's). org.permissions puts it on top of the role's
`complaints.handle_complaint`. Without a complaint it answers True: tested without an object,
a rule answers whether the role may handle complaints at all. This module imports no model
of its app, so org.permissions can build its rules from it."""

import rules

from org.roles import Role, roles_of
from org.selectors import user_sees_branch


@rules.predicate
def handles_it(user, complaint) -> bool:
    if complaint is None:
        return True
    manager_id = complaint.relationship_manager_id
    if manager_id is not None and manager_id == getattr(user, "pk", None):
        return True
    # A company that never applied has no relationship manager yet: its branch's have.
    handlers = {Role.BRANCH_HEAD} | ({Role.RELATIONSHIP_MANAGER} if manager_id is None else set())
    return bool(roles_of(user) & handlers) and user_sees_branch(user, complaint.branch)
