"""Chatwoot side of the bot: payloads, signatures, filters, API client, handoff, splitting."""
