"""The CPU's flags as results record them, and whether it has bfloat16 arithmetic."""

from pathlib import Path

import pytest

import svrlens._machine as machine

X86_AVX2 = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx2 fma\n"
X86_ZEN5 = "processor\t: 0\nflags\t\t: fpu avx2 fma avx512f avx512_vnni avx512_bf16\n"
ARM_BF16 = "processor\t: 0\nFeatures\t: fp asimd sve bf16 svebf16\n"


@pytest.mark.parametrize(
    "cpuinfo, flags, bf16",
    [
        (X86_AVX2, ("avx2", "fma"), False),
        (X86_ZEN5, ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16"), True),
        (ARM_BF16, ("bf16",), True),
        ("processor\t: 0\n", (), None),  # no flags line: unknown, not "none"
        (None, (), None),  # no /proc/cpuinfo (macOS, Windows)
    ],
)
def test_flags_and_bfloat16_from_cpuinfo(tmp_path, monkeypatch, cpuinfo, flags, bf16):
    path = tmp_path / "cpuinfo"
    if cpuinfo is not None:
        path.write_text(cpuinfo)
    real_path = Path

    def fake_path(name, *rest):
        return path if str(name) == "/proc/cpuinfo" else real_path(name, *rest)

    monkeypatch.setattr(machine, "Path", fake_path)
    machine._cpuinfo_flags.cache_clear()
    try:
        assert machine.cpu_flags() == flags
        assert machine.bfloat16_arithmetic() is bf16
        assert machine.native_bfloat16() is bool(bf16)
    finally:
        machine._cpuinfo_flags.cache_clear()
