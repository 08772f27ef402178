"""Google Cloud: privileged principals with inherited IAM, VMs and their OS Config patch data."""
