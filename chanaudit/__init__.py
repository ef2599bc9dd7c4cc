"""chanaudit: support-channel audits of service-company websites."""

__version__ = "0.1.0"
