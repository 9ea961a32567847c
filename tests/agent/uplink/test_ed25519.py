"""The agent's pure-Python Ed25519 verifier against RFC 8032's vectors and against ``cryptography``'s signatures."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from medic.agent.uplink.ed25519 import L, verify

# RFC 8032 section 7.1: (secret key, public key, message, signature), hex
RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe"
     "24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302a"
     "eeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed2"
     "8dc027beceea1ec40a"),
    ("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce8"
     "0e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac1"
     "7ad9bef1177331a704"),
]


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032, ids=["1", "2", "3", "sha-abc"])
def test_rfc8032_vectors_verify_and_match_cryptography(secret: str, public: str, message: str,
                                                        signature: str) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    # the vectors as typed here are the RFC's: cryptography derives the same key and signature
    assert _raw_public(key).hex() == public
    assert key.sign(bytes.fromhex(message)).hex() == signature
    assert verify(bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature))
    assert not verify(bytes.fromhex(public), bytes.fromhex(message) + b"x", bytes.fromhex(signature))


def test_signatures_made_with_cryptography_verify_and_every_tampering_is_refused() -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    public = _raw_public(key)
    for size in (0, 1, 64, 1000):
        message = os.urandom(size)
        signature = key.sign(message)
        assert verify(public, message, signature)
        assert not verify(_raw_public(other), message, signature)  # wrong key
        bit = size * 8 % 512 + 3  # a different bit per message, in R or in S
        flipped = bytearray(signature)
        flipped[bit // 8] ^= 1 << (bit % 8)
        assert not verify(public, message, bytes(flipped))
        if message:
            changed = bytearray(message)
            changed[0] ^= 0x80
            assert not verify(public, bytes(changed), signature)


def test_a_non_canonical_s_is_refused_although_it_satisfies_the_equation() -> None:
    key = Ed25519PrivateKey.generate()
    message = b"receipt"
    signature = key.sign(message)
    s = int.from_bytes(signature[32:], "little")
    malleable = signature[:32] + (s + L).to_bytes(32, "little")  # [S+L]B == [S]B: only the range check refuses it
    assert verify(_raw_public(key), message, signature)
    assert not verify(_raw_public(key), message, malleable)


def test_malformed_keys_and_signatures_are_refused_not_raised() -> None:
    key = Ed25519PrivateKey.generate()
    public, signature = _raw_public(key), key.sign(b"m")
    assert not verify(public[:31], b"m", signature)
    assert not verify(public, b"m", signature[:63])
    assert not verify(b"\xff" * 32, b"m", signature)  # y >= p: not a canonical point encoding
    off_curve = next(bytes([i]) + bytes(31) for i in range(2, 256) if not _on_curve(bytes([i]) + bytes(31)))
    assert not verify(off_curve, b"m", signature)


def _on_curve(encoded: bytes) -> bool:
    from medic.agent.uplink.ed25519 import _decompress

    return _decompress(encoded) is not None
