"""The local APIC of the simulated CPU: its registers and its timer.

Takes: register reads and writes (offsets as in the Intel manual) and the current guest
time (TSC) from the machine.
Hands on: register values, the timer's next deadline and which vector it raises when the
deadline passes. Interrupt delivery itself (pending, in service, gates) is the machine's.
"""

from __future__ import annotations

# Register offsets in the APIC page.
ID = 0x20
VERSION = 0x30
TPR = 0x80
EOI = 0xB0
SVR = 0xF0
ICR_LOW = 0x300
ICR_HIGH = 0x310
LVT_TIMER = 0x320
TIMER_INITIAL = 0x380
TIMER_CURRENT = 0x390
TIMER_DIVIDE = 0x3E0

ICR_MODE_MASK = 0x700
ICR_FIXED = 0x000
ICR_INIT = 0x500
ICR_STARTUP = 0x600

LVT_MASKED = 1 << 16
LVT_PERIODIC = 1 << 17

#: Divide-configuration register value -> divisor of the TSC rate.
DIVISORS = {0x0: 2, 0x1: 4, 0x2: 8, 0x3: 16, 0x8: 32, 0x9: 64, 0xA: 128, 0xB: 1}

VERSION_VALUE = 0x0005_0014  # an integrated APIC with six LVT entries


class LocalApic:
    """Register file and one-shot/periodic timer counting in TSC cycles / divisor."""

    def __init__(self, apic_id: int = 0) -> None:
        self.registers: dict[int, int] = {
            ID: apic_id << 24,
            VERSION: VERSION_VALUE,
            TPR: 0,
            SVR: 0xFF,
            LVT_TIMER: LVT_MASKED,
            TIMER_INITIAL: 0,
            TIMER_DIVIDE: 0x0,
            ICR_LOW: 0,
            ICR_HIGH: 0,
        }
        self.deadline: int | None = None
        self.period = 0

    def read(self, register: int, now: int) -> int:
        if register == TIMER_CURRENT:
            if self.deadline is None:
                return 0
            return max(0, self.deadline - now) // self._divisor()
        return self.registers.get(register, 0)

    def write(self, register: int, value: int, now: int) -> None:
        """Store a register; EOI is the machine's business and is not stored."""
        if register in (EOI, VERSION, TIMER_CURRENT):
            return
        self.registers[register] = value & 0xFFFF_FFFF
        if register == TIMER_INITIAL:
            self._arm(now)

    def _divisor(self) -> int:
        return DIVISORS.get(self.registers[TIMER_DIVIDE] & 0xB, 2)

    def _arm(self, now: int) -> None:
        count = self.registers[TIMER_INITIAL]
        if count == 0:
            self.deadline, self.period = None, 0
            return
        length = count * self._divisor()
        self.deadline = now + length
        periodic = self.registers[LVT_TIMER] & LVT_PERIODIC
        self.period = length if periodic else 0

    def expire(self, now: int) -> int | None:
        """The vector to raise if the deadline has passed (then re-armed or stopped)."""
        if self.deadline is None or now < self.deadline:
            return None
        if self.period:
            while self.deadline <= now:
                self.deadline += self.period
        else:
            self.deadline = None
        lvt = self.registers[LVT_TIMER]
        return None if lvt & LVT_MASKED else lvt & 0xFF
