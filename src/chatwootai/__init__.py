"""ChatwootAI: teams of AI agents behind Chatwoot inboxes."""

__version__ = "0.1.0"
