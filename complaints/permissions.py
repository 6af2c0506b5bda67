"""Who may handle a complaint, as a django-rules predicate `(user, complaint)`: the
relationship manager it was given to, or a branch head whose branch subtree holds the
complaint's branch (the company's). org.permissions puts it on top of the role's
`complaints.handle_complaint`. Without a complaint it answers True: tested without an object,
a rule answers whether the role may handle complaints at all. This module imports no model,
so org.permissions can build its rules from it."""

import rules

from org.roles import Role, roles_of
from org.selectors import user_sees_branch


@rules.predicate
def handles_it(user, complaint) -> bool:
    if complaint is None:
        return True
    if (
        complaint.relationship_manager_id is not None
        and complaint.relationship_manager_id == getattr(user, "pk", None)
    ):
        return True
    return Role.BRANCH_HEAD in roles_of(user) and user_sees_branch(user, complaint.branch)
