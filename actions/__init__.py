"""Custom actions of the PayLater assistant and the shop database they read.

The handoff plugin's `action_handoff` is imported here so the action server, which loads this
package, serves it too.
"""

from handoff.actions import ActionHandoff

__all__ = ["ActionHandoff"]
