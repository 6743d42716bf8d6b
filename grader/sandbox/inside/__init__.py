"""What runs inside the sandbox (stdlib and numpy only): the runner and its wire format."""
