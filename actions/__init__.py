"""Custom actions of the PayLater assistant and the shop database they read."""
