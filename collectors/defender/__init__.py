"""Microsoft Defender for Endpoint / Defender Vulnerability Management: machines as assets,
software vulnerabilities by machine as patch evidence (docs/defender.md)."""
