"""Development tools (provisioning for the tests); not part of the service."""
