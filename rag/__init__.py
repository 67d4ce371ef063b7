"""newsdesk rag package."""
