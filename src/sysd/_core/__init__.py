"""systemd meaning with no I/O."""
