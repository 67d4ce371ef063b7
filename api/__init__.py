"""newsdesk api package."""
