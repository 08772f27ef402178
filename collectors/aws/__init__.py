"""AWS collectors: IAM identities, EC2 and SSM Patch Manager, AWS Backup, across an Organization.

``source.py`` owns the sources-file section and wires the rest; ``session.py`` reaches accounts
(credential chain, Organizations discovery, AssumeRole); one module per evidence job.
"""
