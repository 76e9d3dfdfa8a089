#ifndef AQCAST_CFLOATENVIRONMENT_H
#define AQCAST_CFLOATENVIRONMENT_H

/// Makes this thread flush subnormal floating-point results and inputs to zero (x86-64 MXCSR
/// FTZ and DAZ bits; AArch64 FPCR FZ bit). Training's error signals fade through saturated tanh
/// units into subnormal range, where x86 arithmetic is a hundred times slower; their
/// contribution is below any weight's resolution. Returns 1 when set, 0 where unsupported.
static inline int aq_flush_subnormals_to_zero(void) {
#if defined(__x86_64__)
    unsigned int csr;
    __asm__ __volatile__("stmxcsr %0" : "=m"(csr));
    csr |= 0x8040u;
    __asm__ __volatile__("ldmxcsr %0" : : "m"(csr));
    return 1;
#elif defined(__aarch64__)
    unsigned long fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    fpcr |= (1ul << 24);
    __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
    return 1;
#else
    return 0;
#endif
}

/// The thread's floating-point control word (MXCSR or FPCR), to put back with
/// `aq_set_float_environment` when a training run ends: the flush-to-zero mode is the
/// trainer's own business, not its caller's.
static inline unsigned long aq_float_environment(void) {
#if defined(__x86_64__)
    unsigned int csr;
    __asm__ __volatile__("stmxcsr %0" : "=m"(csr));
    return csr;
#elif defined(__aarch64__)
    unsigned long fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    return fpcr;
#else
    return 0;
#endif
}

static inline void aq_set_float_environment(unsigned long saved) {
#if defined(__x86_64__)
    unsigned int csr = (unsigned int)saved;
    __asm__ __volatile__("ldmxcsr %0" : : "m"(csr));
#elif defined(__aarch64__)
    __asm__ __volatile__("msr fpcr, %0" : : "r"(saved));
#else
    (void)saved;
#endif
}

#endif
