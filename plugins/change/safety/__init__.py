"""Change-safety machinery: backups and their catalogue, the run journal, rollback and recovery, and the host
functions that do the work on the machine holding a resource. See :mod:`medic.plugins.change` for the map."""
