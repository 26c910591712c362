"""Who may call: API keys, OAuth clients and tokens, argon2 hashing of secrets."""
