"""Routing layers used by the hub: handoff phrases, rules, a lexical classifier, an LLM router."""
