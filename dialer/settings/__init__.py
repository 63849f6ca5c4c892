"""Configuration: `config.toml` read, validated and typed (`config.Config`), one section per module."""
