"""The string hashes Keras's Hashing and lookup layers bin with, in pure Python.

- `fingerprint64`: FarmHash's `Fingerprint64` (the `farmhashna::Hash64` variant), which is
  what TensorFlow's `tf.strings.to_hash_bucket_fast` applies to the UTF-8 bytes.
- `siphash64`: SipHash-2-4 with a 128-bit key given as two unsigned 64-bit words, what
  `tf.strings.to_hash_bucket_strong(key=[k0, k1])` applies.

Both are checked against published values: the SipHash paper's test vectors and the
documented bucket numbers of TensorFlow and Keras (`tests/test_layers_text_preprocessing.py`).

Example:
>>> from tritonlayers.layers._string_hashing import fingerprint64, hash_buckets
>>> hex(fingerprint64(b""))
'0x9ae16a3b2f90404f'
>>> hash_buckets(["Hello", "TensorFlow", "2.x"], 3).tolist()
[0, 2, 2]
"""

from collections.abc import Iterable, Sequence

import numpy as np

_MASK = (1 << 64) - 1
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F


def _fetch64(s: bytes, i: int) -> int:
    return int.from_bytes(s[i : i + 8], "little")


def _fetch32(s: bytes, i: int) -> int:
    return int.from_bytes(s[i : i + 4], "little")


def _rotate(v: int, r: int) -> int:
    """Rotate right by r bits (r in 1..63)."""
    return ((v >> r) | (v << (64 - r))) & _MASK


def _shift_mix(v: int) -> int:
    return v ^ (v >> 47)


def _hash_len16(u: int, v: int, mul: int) -> int:
    a = ((u ^ v) * mul) & _MASK
    a ^= a >> 47
    b = ((v ^ a) * mul) & _MASK
    b ^= b >> 47
    return (b * mul) & _MASK


def _hash_len0to16(s: bytes) -> int:
    n = len(s)
    if n >= 8:
        mul = _K2 + n * 2
        a = (_fetch64(s, 0) + _K2) & _MASK
        b = _fetch64(s, n - 8)
        c = (_rotate(b, 37) * mul + a) & _MASK
        d = ((_rotate(a, 25) + b) * mul) & _MASK
        return _hash_len16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        return _hash_len16((n + (_fetch32(s, 0) << 3)) & _MASK, _fetch32(s, n - 4), mul)
    if n > 0:
        y = (s[0] + (s[n >> 1] << 8)) & 0xFFFFFFFF
        z = (n + (s[n - 1] << 2)) & 0xFFFFFFFF
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _MASK) * _K2) & _MASK
    return _K2


def _hash_len17to32(s: bytes) -> int:
    n = len(s)
    mul = _K2 + n * 2
    a = (_fetch64(s, 0) * _K1) & _MASK
    b = _fetch64(s, 8)
    c = (_fetch64(s, n - 8) * mul) & _MASK
    d = (_fetch64(s, n - 16) * _K2) & _MASK
    return _hash_len16(
        (_rotate((a + b) & _MASK, 43) + _rotate(c, 30) + d) & _MASK,
        (a + _rotate((b + _K2) & _MASK, 18) + c) & _MASK,
        mul,
    )


def _hash_len33to64(s: bytes) -> int:
    n = len(s)
    mul = _K2 + n * 2
    a = (_fetch64(s, 0) * _K2) & _MASK
    b = _fetch64(s, 8)
    c = (_fetch64(s, n - 8) * mul) & _MASK
    d = (_fetch64(s, n - 16) * _K2) & _MASK
    y = (_rotate((a + b) & _MASK, 43) + _rotate(c, 30) + d) & _MASK
    z = _hash_len16(y, (a + _rotate((b + _K2) & _MASK, 18) + c) & _MASK, mul)
    e = (_fetch64(s, 16) * mul) & _MASK
    f = _fetch64(s, 24)
    g = ((y + _fetch64(s, n - 32)) * mul) & _MASK
    h = ((z + _fetch64(s, n - 24)) * mul) & _MASK
    return _hash_len16(
        (_rotate((e + f) & _MASK, 43) + _rotate(g, 30) + h) & _MASK,
        (e + _rotate((f + a) & _MASK, 18) + g) & _MASK,
        mul,
    )


def _weak_hash_len32(s: bytes, i: int, a: int, b: int) -> "tuple[int, int]":
    """Mix the 32 bytes at `s[i:]` into the seeds (a, b)."""
    w, x, y, z = (_fetch64(s, i + k) for k in (0, 8, 16, 24))
    a = (a + w) & _MASK
    b = _rotate((b + a + z) & _MASK, 21)
    c = a
    a = (a + x + y) & _MASK
    b = (b + _rotate(a, 44)) & _MASK
    return (a + z) & _MASK, (b + c) & _MASK


def fingerprint64(s: bytes) -> int:
    """FarmHash `Fingerprint64` of the bytes `s`, as an unsigned 64-bit int."""
    n = len(s)
    if n <= 16:
        return _hash_len0to16(s)
    if n <= 32:
        return _hash_len17to32(s)
    if n <= 64:
        return _hash_len33to64(s)
    # Longer inputs: 64-byte chunks update a 56-byte state (x, y, z, v, w); the final chunk
    # is the last 64 bytes (overlapping the previous one when n is not a multiple of 64).
    seed = 81
    y = (seed * _K1 + 113) & _MASK
    z = (_shift_mix((y * _K2 + 113) & _MASK) * _K2) & _MASK
    v, w = (0, 0), (0, 0)
    x = (seed * _K2 + _fetch64(s, 0)) & _MASK
    end = ((n - 1) // 64) * 64
    for p in range(0, end, 64):
        x = (_rotate((x + y + v[0] + _fetch64(s, p + 8)) & _MASK, 37) * _K1) & _MASK
        y = (_rotate((y + v[1] + _fetch64(s, p + 48)) & _MASK, 42) * _K1) & _MASK
        x ^= w[1]
        y = (y + v[0] + _fetch64(s, p + 40)) & _MASK
        z = (_rotate((z + w[0]) & _MASK, 33) * _K1) & _MASK
        v = _weak_hash_len32(s, p, (v[1] * _K1) & _MASK, (x + w[0]) & _MASK)
        w = _weak_hash_len32(s, p + 32, (z + w[1]) & _MASK, (y + _fetch64(s, p + 16)) & _MASK)
        z, x = x, z
    mul = _K1 + ((z & 0xFF) << 1)
    p = end + ((n - 1) & 63) - 63
    w0 = (w[0] + ((n - 1) & 63)) & _MASK
    v0 = (v[0] + w0) & _MASK
    w = ((w0 + v0) & _MASK, w[1])
    v = (v0, v[1])
    x = (_rotate((x + y + v[0] + _fetch64(s, p + 8)) & _MASK, 37) * mul) & _MASK
    y = (_rotate((y + v[1] + _fetch64(s, p + 48)) & _MASK, 42) * mul) & _MASK
    x ^= (w[1] * 9) & _MASK
    y = (y + v[0] * 9 + _fetch64(s, p + 40)) & _MASK
    z = (_rotate((z + w[0]) & _MASK, 33) * mul) & _MASK
    v = _weak_hash_len32(s, p, (v[1] * mul) & _MASK, (x + w[0]) & _MASK)
    w = _weak_hash_len32(s, p + 32, (z + w[1]) & _MASK, (y + _fetch64(s, p + 16)) & _MASK)
    z, x = x, z
    return _hash_len16(
        (_hash_len16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & _MASK,
        (_hash_len16(v[1], w[1], mul) + x) & _MASK,
        mul,
    )


def _rotl(v: int, r: int) -> int:
    return ((v << r) | (v >> (64 - r))) & _MASK


def siphash64(key: Sequence[int], s: bytes) -> int:
    """SipHash-2-4 of the bytes `s` under the key `(k0, k1)` (unsigned 64-bit words)."""
    k0, k1 = key[0] & _MASK, key[1] & _MASK
    state = [
        0x736F6D6570736575 ^ k0,
        0x646F72616E646F6D ^ k1,
        0x6C7967656E657261 ^ k0,
        0x7465646279746573 ^ k1,
    ]

    def sip_round() -> None:
        v0, v1, v2, v3 = state
        v0 = (v0 + v1) & _MASK
        v1 = _rotl(v1, 13) ^ v0
        v0 = _rotl(v0, 32)
        v2 = (v2 + v3) & _MASK
        v3 = _rotl(v3, 16) ^ v2
        v0 = (v0 + v3) & _MASK
        v3 = _rotl(v3, 21) ^ v0
        v2 = (v2 + v1) & _MASK
        v1 = _rotl(v1, 17) ^ v2
        v2 = _rotl(v2, 32)
        state[:] = v0, v1, v2, v3

    def compress(m: int) -> None:
        state[3] ^= m
        sip_round()
        sip_round()
        state[0] ^= m

    n = len(s)
    full = n - n % 8
    for i in range(0, full, 8):
        compress(_fetch64(s, i))
    # The last word holds the remaining bytes and, in its top byte, the length mod 256.
    compress(int.from_bytes(s[full:], "little") | ((n & 0xFF) << 56))
    state[2] ^= 0xFF
    for _ in range(4):
        sip_round()
    return state[0] ^ state[1] ^ state[2] ^ state[3]


def hash_buckets(
    values: Iterable[str], num_buckets: int, salt: "Sequence[int] | None" = None
) -> np.ndarray:
    """`hash(value) % num_buckets` for each string (UTF-8 bytes), as int64.

    FarmHash Fingerprint64 without a salt, SipHash-2-4 keyed by `salt` with one.
    """
    cache: dict = {}
    out = []
    for value in values:
        bucket = cache.get(value)
        if bucket is None:
            data = value.encode("utf-8")
            digest = fingerprint64(data) if salt is None else siphash64(salt, data)
            bucket = cache[value] = digest % num_buckets
        out.append(bucket)
    return np.asarray(out, dtype=np.int64)
