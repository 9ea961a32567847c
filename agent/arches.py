"""CPU architecture names as package managers print them (``libsecret-1-0:amd64``, ``bash.x86_64``).

Shared data, not a redaction rule: the scrubber and the independent leak scan both need to know that
``name:amd64`` in a dpkg or apt log is a package and its architecture, not a key and its secret.
"""

from __future__ import annotations

ARCHITECTURES = frozenset({
    "amd64", "arm64", "i386", "i686", "armhf", "armel", "ppc64el", "ppc64le", "s390x", "mips64el", "riscv64",
    "x86_64", "aarch64", "noarch", "loong64",
    "all",  # dpkg's architecture-independent packages: `python3-jwt:all`, `libtext-password-...-perl:all`
})
