/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * Bounds the verifier of every supported kernel can follow.
 *
 * A size or offset handed to a helper must have a bound the verifier can
 * see at that instruction. clang proves bounds its own way and then emits
 * code that relies on them without restating them: it narrows a value to 32
 * bits and widens it again, keeps two copies of a clamped value and uses the
 * unclamped one, or turns `if (x > max) x = max` into a select the verifier
 * reads differently. The 6.12+ verifiers recover; those of 5.10 and 6.1
 * (Debian 11 and 12) lose the bound or derive an impossible range
 * (umin > umax) and reject the program with "R3 min value is negative".
 *
 * So every variable size or offset that reaches a helper goes through one of
 * these, right before it is used. Each is an asm statement the compiler can
 * neither fold nor move past, and each produces, in the very register the
 * helper receives, a check every verifier since 5.8 understands: a 64-bit
 * unsigned compare with a known constant, or an AND with one. Keep sizes in
 * __u64 from here to the helper call: a narrowing to __u32 in between gives
 * the compiler back the freedom these take away.
 */
#ifndef EXEC_TRACER_BOUNDS_H
#define EXEC_TRACER_BOUNDS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/*
 * min(v, max) as a compare-and-move the verifier follows on both branches.
 * `max` must be known to the verifier: a constant, or a `const volatile`
 * knob (read-only data is frozen before load, so its values are constants).
 */
static __always_inline __u64 clamp_max(__u64 v, __u64 max)
{
	asm volatile("if %[v] <= %[max] goto +1\n\t"
		     "%[v] = %[max]"
		     : [v] "+r"(v)
		     : [max] "r"(max));
	return v;
}

/* v & mask, kept: `mask` a compile-time constant of the form 2^k - 1. */
#define mask_bits(v, mask)                                                     \
	({                                                                     \
		__u64 __v = (v);                                               \
		asm volatile("%[x] &= %[m]" : [x] "+r"(__v) : [m] "i"(mask)); \
		__v;                                                           \
	})

/*
 * min(v, max) for an offset computed from other bounded values (a sum of
 * lengths). Those verifiers can carry such a sum with an impossible range
 * (umin > umax), and no compare repairs that; an AND does, since it derives
 * the bounds from the known bits again. `max` must be below 2^22, above every
 * offset a record can have (argv and the environment at most 1 MiB each,
 * plus filename and paths).
 */
static __always_inline __u64 clamp_offset(__u64 v, __u64 max)
{
	return clamp_max(mask_bits(v, (1 << 22) - 1), max);
}

#endif /* EXEC_TRACER_BOUNDS_H */
