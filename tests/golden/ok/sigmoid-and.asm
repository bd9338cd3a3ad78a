; train.0.step (6368 bytes, not optimised)
  pushq %rbp
  unwind PushFrameRegs { offset_upward_to_caller_sp: 16 }
  movq %rsp, %rbp
  unwind DefineNewFrame { offset_upward_to_caller_sp: 16, offset_downward_to_clobbers: 48 }
  subq $0x5e0, %rsp
  movq %rbx, 0x5b0(%rsp)
  unwind SaveReg { clobber_offset: 0, reg: p3i }
  movq %r12, 0x5b8(%rsp)
  unwind SaveReg { clobber_offset: 8, reg: p12i }
  movq %r13, 0x5c0(%rsp)
  unwind SaveReg { clobber_offset: 16, reg: p13i }
  movq %r14, 0x5c8(%rsp)
  unwind SaveReg { clobber_offset: 24, reg: p14i }
  movq %r15, 0x5d0(%rsp)
  unwind SaveReg { clobber_offset: 32, reg: p15i }
block0:
  movq %rdx, <offset:1>+0x60(%rsp)
  movq %rdi, %rbx
  movq (%rbx), %rcx
  movq %rcx, <offset:1>+0x210(%rsp)
  movq 8(%rbx), %r14
  movq %r14, <offset:1>+0x350(%rsp)
  movq 0x10(%rbx), %rdx
  movq 0x18(%rbx), %r15
  movq %r15, <offset:1>+0x68(%rsp)
  movq 0x20(%rbx), %r10
  movq 0x28(%rbx), %rax
  movq %rax, <offset:1>+0x20(%rsp)
  movq 0x30(%rbx), %r8
  movq %r8, <offset:1>+0x130(%rsp)
  movq (%r10), %r9
  movq %r9, <offset:1>+0x90(%rsp)
  movq 8(%r10), %r11
  movq %r11, <offset:1>+0x10(%rsp)
  uninit  %xmm15
  vxorps %xmm15, %xmm15, %xmm3
  movdqu %xmm3, <offset:1>+0x590(%rsp)
  uninit  %r12
  xorq %r12, %r12
  movq %r12, <offset:1>+0x5a0(%rsp)
  uninit  %r13
  xorq %r13, %r13
  testq %r13, %r13
  jb      label2; j label1
block1:
  jmp     label3
block3:
  movdqu <offset:1>+0x590(%rsp), %xmm12
  movq <offset:1>+0x20(%rsp), %r15
  vmovss %xmm12, 0x40(%r15)
  uninit  %xmm10
  vxorps %xmm10, %xmm10, %xmm11
  movdqu %xmm11, <offset:1>+0x570(%rsp)
  uninit  %rax
  xorq %rax, %rax
  movq %rax, <offset:1>+0x580(%rsp)
  uninit  %rbx
  xorq %rbx, %rbx
  testq %rbx, %rbx
  jb      label5; j label4
block4:
  jmp     label6
block6:
  movdqu <offset:1>+0x570(%rsp), %xmm4
  movq <offset:1>+0x20(%rsp), %r9
  vmovss %xmm4, 0x80(%r9)
  uninit  %xmm0
  vxorps %xmm0, %xmm0, %xmm14
  movdqu %xmm14, <offset:1>+0x550(%rsp)
  uninit  %r10
  xorq %r10, %r10
  movq %r10, <offset:1>+0x568(%rsp)
  movl $0x1, %r11d
  testq %r11, %r11
  jb      label8; j label7
block7:
  jmp     label9
block9:
  movdqu <offset:1>+0x550(%rsp), %xmm8
  movq <offset:1>+0x20(%rsp), %r13
  vmovss %xmm8, (%r13)
  movl $0x1, %r14d
  movq %r14, <offset:1>+0x560(%rsp)
  movl $0x1, %r15d
  cmpq $0x1, %r15
  jb      label11; j label10
block10:
  jmp     label12
block12:
  movdqu <offset:1>+0x550(%rsp), %xmm7
  movq <offset:1>+0x20(%rsp), %rbx
  vmovss %xmm7, 4(%rbx)
  vbroadcastss (%rip), %xmm13
  movdqu %xmm13, <offset:1>+0x190(%rsp)
  imulq $0x0, (%rip), %r8
  movq %r8, <offset:1>+0x538(%rsp)
  movq <offset:1>+0x538(%rsp), %r9
  leaq (%r9), %r10
  movq %r10, <offset:1>+0x540(%rsp)
  movq <offset:1>+0x540(%rsp), %r11
  cmpq $0x7, %r11
  jnbe    label14; j label13
block13:
  jmp     label15
block15:
  movq <offset:1>+0x538(%rsp), %r13
  movq <offset:1>+0x210(%rsp), %r14
  vmovss (%r14, %r13, 4), %xmm1
  movdqu <offset:1>+0x190(%rsp), %xmm5
  vinsertps $0x0, %xmm1, %xmm5, %xmm9
  movdqu %xmm9, <offset:1>+0x520(%rsp)
  imulq $0x1, (%rip), %r15
  movq %r15, <offset:1>+0x518(%rsp)
  movq <offset:1>+0x518(%rsp), %rax
  leaq (%rax), %rbx
  movq %rbx, <offset:1>+0x530(%rsp)
  movq <offset:1>+0x530(%rsp), %r8
  cmpq $0x7, %r8
  jnbe    label17; j label16
block16:
  jmp     label18
block18:
  movdqu <offset:1>+0x520(%rsp), %xmm2
  movq <offset:1>+0x518(%rsp), %r10
  movq <offset:1>+0x210(%rsp), %r11
  vmovss (%r11, %r10, 4), %xmm6
  vinsertps $0x10, %xmm6, %xmm2, %xmm15
  movdqu %xmm15, <offset:1>+0x500(%rsp)
  imulq $0x2, (%rip), %r12
  movq %r12, <offset:1>+0x4f8(%rsp)
  movq <offset:1>+0x4f8(%rsp), %r13
  leaq (%r13), %r14
  movq %r14, <offset:1>+0x510(%rsp)
  movq <offset:1>+0x510(%rsp), %r15
  cmpq $0x7, %r15
  jnbe    label20; j label19
block19:
  jmp     label21
block21:
  movdqu <offset:1>+0x500(%rsp), %xmm12
  movq <offset:1>+0x4f8(%rsp), %rbx
  movq <offset:1>+0x210(%rsp), %r8
  vmovss (%r8, %rbx, 4), %xmm3
  vinsertps $0x20, %xmm3, %xmm12, %xmm10
  movdqu %xmm10, <offset:1>+0x4e0(%rsp)
  imulq $0x3, (%rip), %r9
  movq %r9, <offset:1>+0x4d8(%rsp)
  movq <offset:1>+0x4d8(%rsp), %r10
  leaq (%r10), %r11
  movq %r11, <offset:1>+0x4f0(%rsp)
  movq <offset:1>+0x4f0(%rsp), %r12
  cmpq $0x7, %r12
  jnbe    label23; j label22
block22:
  jmp     label24
block24:
  movdqu <offset:1>+0x4e0(%rsp), %xmm4
  movq <offset:1>+0x4d8(%rsp), %r14
  movq <offset:1>+0x210(%rsp), %r15
  vmovss (%r15, %r14, 4), %xmm11
  vinsertps $0x30, %xmm11, %xmm4, %xmm0
  movdqu %xmm0, <offset:1>+0x4c0(%rsp)
  uninit  %rax
  xorq %rax, %rax
  movq %rax, <offset:1>+0x4d0(%rsp)
  movl $0x1, %ebx
  testq %rbx, %rbx
  jb      label26; j label25
block25:
  jmp     label27
block27:
  movdqu <offset:1>+0x4c0(%rsp), %xmm13
  movq <offset:1>+0x90(%rsp), %r9
  vmovss (%r9), %xmm14
  vbroadcastss %xmm14, %xmm8
  movdqu <offset:1>+0x190(%rsp), %xmm7
  vfmadd213ps %xmm7, %xmm13, %xmm8
  movdqu %xmm8, <offset:1>+0x410(%rsp)
  vbroadcastss (%rip), %xmm1
  movdqu %xmm1, <offset:1>+0x4a0(%rsp)
  imulq $0x0, (%rip), %r10
  movq %r10, <offset:1>+0x498(%rsp)
  movq <offset:1>+0x498(%rsp), %r11
  leaq 1(%r11), %r12
  movq %r12, <offset:1>+0x4b0(%rsp)
  movq <offset:1>+0x4b0(%rsp), %r13
  cmpq $0x7, %r13
  jnbe    label29; j label28
block28:
  jmp     label30
block30:
  movdqu <offset:1>+0x4a0(%rsp), %xmm9
  movq <offset:1>+0x498(%rsp), %r15
  movq <offset:1>+0x210(%rsp), %rax
  vmovss 4(%rax, %r15, 4), %xmm5
  vinsertps $0x0, %xmm5, %xmm9, %xmm6
  movdqu %xmm6, <offset:1>+0x480(%rsp)
  imulq $0x1, (%rip), %rbx
  movq %rbx, <offset:1>+0x478(%rsp)
  movq <offset:1>+0x478(%rsp), %r8
  leaq 1(%r8), %r9
  movq %r9, <offset:1>+0x490(%rsp)
  movq <offset:1>+0x490(%rsp), %r10
  cmpq $0x7, %r10
  jnbe    label32; j label31
block31:
  jmp     label33
block33:
  movdqu <offset:1>+0x480(%rsp), %xmm15
  movq <offset:1>+0x478(%rsp), %r12
  movq <offset:1>+0x210(%rsp), %r13
  vmovss 4(%r13, %r12, 4), %xmm2
  vinsertps $0x10, %xmm2, %xmm15, %xmm3
  movdqu %xmm3, <offset:1>+0x460(%rsp)
  imulq $0x2, (%rip), %r14
  movq %r14, <offset:1>+0x458(%rsp)
  movq <offset:1>+0x458(%rsp), %r15
  leaq 1(%r15), %rax
  movq %rax, <offset:1>+0x470(%rsp)
  movq <offset:1>+0x470(%rsp), %rbx
  cmpq $0x7, %rbx
  jnbe    label35; j label34
block34:
  jmp     label36
block36:
  movdqu <offset:1>+0x460(%rsp), %xmm10
  movq <offset:1>+0x458(%rsp), %r9
  movq <offset:1>+0x210(%rsp), %r10
  vmovss 4(%r10, %r9, 4), %xmm12
  vinsertps $0x20, %xmm12, %xmm10, %xmm11
  movdqu %xmm11, <offset:1>+0x440(%rsp)
  imulq $0x3, (%rip), %r11
  movq %r11, <offset:1>+0x438(%rsp)
  movq <offset:1>+0x438(%rsp), %r12
  leaq 1(%r12), %r13
  movq %r13, <offset:1>+0x450(%rsp)
  movq <offset:1>+0x450(%rsp), %r14
  cmpq $0x7, %r14
  jnbe    label38; j label37
block37:
  jmp     label39
block39:
  movdqu <offset:1>+0x440(%rsp), %xmm0
  movq <offset:1>+0x438(%rsp), %rax
  movq <offset:1>+0x210(%rsp), %rbx
  vmovss 4(%rbx, %rax, 4), %xmm4
  vinsertps $0x30, %xmm4, %xmm0, %xmm14
  movdqu %xmm14, <offset:1>+0x420(%rsp)
  movl $0x1, %r8d
  movq %r8, <offset:1>+0x430(%rsp)
  movl $0x1, %r9d
  cmpq $0x1, %r9
  jb      label41; j label40
block40:
  jmp     label42
block42:
  movdqu <offset:1>+0x420(%rsp), %xmm1
  movdqu <offset:1>+0x410(%rsp), %xmm8
  movq <offset:1>+0x90(%rsp), %r11
  vmovss 4(%r11), %xmm7
  vbroadcastss %xmm7, %xmm13
  vfmadd213ps %xmm8, %xmm1, %xmm13
  movdqu %xmm13, <offset:1>+0x3f0(%rsp)
  uninit  %r12
  xorq %r12, %r12
  movq %r12, <offset:1>+0x400(%rsp)
  uninit  %r13
  xorq %r13, %r13
  testq %r13, %r13
  jb      label44; j label43
block43:
  jmp     label45
block45:
  movdqu <offset:1>+0x3f0(%rsp), %xmm6
  movq <offset:1>+0x10(%rsp), %r15
  vmovss (%r15), %xmm5
  vbroadcastss %xmm5, %xmm9
  vaddps %xmm9, %xmm6, %xmm2
  uninit  %xmm15
  vpcmpeqd %xmm15, %xmm15, %xmm3
  vpslld $0x1f, %xmm3, %xmm12
  vxorps %xmm12, %xmm2, %xmm10
  movdqu %xmm10, <offset:1>+0x3b0(%rsp)
  vbroadcastss (%rip), %xmm11
  vbroadcastss (%rip), %xmm4
  movdqu <offset:1>+0x3b0(%rsp), %xmm0
  vcmpltps %xmm11, %xmm0, %xmm14
  movdqu %xmm14, <offset:1>+0x3d0(%rsp)
  movdqu <offset:1>+0x3b0(%rsp), %xmm7
  vcmpltps %xmm7, %xmm4, %xmm8
  movdqu %xmm8, <offset:1>+0x3c0(%rsp)
  movdqu <offset:1>+0x3b0(%rsp), %xmm1
  vmaxps %xmm1, %xmm11, %xmm13
  movdqu <offset:1>+0x3c0(%rsp), %xmm5
  vpblendvb %xmm5, %xmm4, %xmm13, %xmm9
  vbroadcastss (%rip), %xmm6
  vbroadcastss (%rip), %xmm15
  movdqa %xmm9, %xmm3
  vfmadd213ps %xmm15, %xmm6, %xmm3
  movdqu %xmm3, <offset:1>+0x3e0(%rsp)
  movdqu <offset:1>+0x3e0(%rsp), %xmm12
  vsubps %xmm15, %xmm12, %xmm2
  vbroadcastss (%rip), %xmm10
  vbroadcastss (%rip), %xmm0
  movdqa %xmm2, %xmm14
  vfmadd213ps %xmm9, %xmm10, %xmm14
  movdqu <offset:1>+0x3e0(%rsp), %xmm10
  vfmadd213ps %xmm14, %xmm0, %xmm2
  vbroadcastss (%rip), %xmm7
  vbroadcastss (%rip), %xmm8
  vfmadd213ps %xmm8, %xmm2, %xmm7
  vbroadcastss (%rip), %xmm1
  vfmadd213ps %xmm1, %xmm2, %xmm7
  vbroadcastss (%rip), %xmm11
  vfmadd213ps %xmm11, %xmm2, %xmm7
  vbroadcastss (%rip), %xmm5
  vfmadd213ps %xmm5, %xmm2, %xmm7
  movdqu <offset:1>+0x3d0(%rsp), %xmm5
  vbroadcastss (%rip), %xmm4
  vfmadd213ps %xmm4, %xmm2, %xmm7
  vmulps %xmm2, %xmm2, %xmm13
  vfmadd213ps %xmm2, %xmm13, %xmm7
  movdqu <offset:1>+0x3c0(%rsp), %xmm2
  vbroadcastss (%rip), %xmm6
  movdqu %xmm6, <offset:1>+0x3a0(%rsp)
  movdqu <offset:1>+0x3b0(%rsp), %xmm6
  movdqu <offset:1>+0x3a0(%rsp), %xmm3
  vaddps %xmm3, %xmm7, %xmm15
  movl $0x4b400000, %eax
  vmovd %eax, %xmm12
  vpbroadcastd %xmm12, %xmm9
  movdqu <offset:1>+0x3a0(%rsp), %xmm12
  vpsubd %xmm9, %xmm10, %xmm14
  vpslld $0x17, %xmm14, %xmm0
  vpaddd %xmm0, %xmm15, %xmm8
  vbroadcastss (%rip), %xmm1
  vbroadcastss (%rip), %xmm11
  vpblendvb %xmm5, %xmm1, %xmm8, %xmm4
  vpblendvb %xmm2, %xmm11, %xmm4, %xmm13
  vcmpneqps %xmm6, %xmm6, %xmm3
  vpblendvb %xmm3, %xmm6, %xmm13, %xmm7
  movdqu %xmm7, <offset:1>+0x380(%rsp)
  movdqu <offset:1>+0x380(%rsp), %xmm9
  vaddps %xmm12, %xmm9, %xmm10
  movdqu %xmm10, <offset:1>+0x360(%rsp)
  movdqu <offset:1>+0x360(%rsp), %xmm14
  vdivps %xmm14, %xmm12, %xmm0
  movdqu %xmm0, <offset:1>+0x370(%rsp)
  uninit  %rbx
  xorq %rbx, %rbx
  movq %rbx, <offset:1>+0x348(%rsp)
  movq <offset:1>+0x348(%rsp), %r8
  leaq (%r8), %r9
  movq %r9, <offset:1>+0x390(%rsp)
  movq <offset:1>+0x390(%rsp), %r10
  movq <offset:1>+0x390(%rsp), %r11
  testq %r10, %r11
  jnbe    label47; j label46
block46:
  jmp     label48
block48:
  movdqu <offset:1>+0x380(%rsp), %xmm12
  movdqu <offset:1>+0x370(%rsp), %xmm5
  movdqu <offset:1>+0x360(%rsp), %xmm3
  movq <offset:1>+0x350(%rsp), %r14
  movq <offset:1>+0x348(%rsp), %r13
  vmovups (%r14, %r13, 4), %xmm15
  vsubps %xmm15, %xmm5, %xmm1
  vmulps %xmm1, %xmm1, %xmm8
  movdqu %xmm8, <offset:1>+0x230(%rsp)
  vbroadcastss (%rip), %xmm2
  vmulps %xmm2, %xmm1, %xmm11
  vaddps %xmm11, %xmm11, %xmm4
  vdivps %xmm3, %xmm4, %xmm6
  vmulps %xmm6, %xmm5, %xmm13
  uninit  %xmm7
  vpcmpeqd %xmm7, %xmm7, %xmm9
  vpslld $0x1f, %xmm9, %xmm10
  vxorps %xmm10, %xmm13, %xmm14
  vmulps %xmm14, %xmm12, %xmm0
  uninit  %xmm15
  vpcmpeqd %xmm15, %xmm15, %xmm8
  vpslld $0x1f, %xmm8, %xmm2
  vxorps %xmm2, %xmm0, %xmm1
  movdqu %xmm1, <offset:1>+0x240(%rsp)
  vbroadcastss (%rip), %xmm11
  movdqu %xmm11, <offset:1>+0x330(%rsp)
  imulq $0x0, (%rip), %r15
  movq %r15, <offset:1>+0x328(%rsp)
  movq <offset:1>+0x328(%rsp), %rax
  leaq (%rax), %rbx
  movq %rbx, <offset:1>+0x340(%rsp)
  movq <offset:1>+0x340(%rsp), %r8
  cmpq $0x7, %r8
  jnbe    label50; j label49
block49:
  jmp     label51
block51:
  movdqu <offset:1>+0x330(%rsp), %xmm4
  movq <offset:1>+0x328(%rsp), %r10
  movq <offset:1>+0x210(%rsp), %r11
  vmovss (%r11, %r10, 4), %xmm3
  vinsertps $0x0, %xmm3, %xmm4, %xmm6
  movdqu %xmm6, <offset:1>+0x310(%rsp)
  imulq $0x1, (%rip), %r12
  movq %r12, <offset:1>+0x308(%rsp)
  movq <offset:1>+0x308(%rsp), %r13
  leaq (%r13), %r14
  movq %r14, <offset:1>+0x320(%rsp)
  movq <offset:1>+0x320(%rsp), %r15
  cmpq $0x7, %r15
  jnbe    label53; j label52
block52:
  jmp     label54
block54:
  movdqu <offset:1>+0x310(%rsp), %xmm7
  movq <offset:1>+0x308(%rsp), %rbx
  movq <offset:1>+0x210(%rsp), %r8
  vmovss (%r8, %rbx, 4), %xmm5
  vinsertps $0x10, %xmm5, %xmm7, %xmm9
  movdqu %xmm9, <offset:1>+0x2f0(%rsp)
  imulq $0x2, (%rip), %r9
  movq %r9, <offset:1>+0x2e8(%rsp)
  movq <offset:1>+0x2e8(%rsp), %r10
  leaq (%r10), %r11
  movq %r11, <offset:1>+0x300(%rsp)
  movq <offset:1>+0x300(%rsp), %r12
  cmpq $0x7, %r12
  jnbe    label56; j label55
block55:
  jmp     label57
block57:
  movdqu <offset:1>+0x2f0(%rsp), %xmm13
  movq <offset:1>+0x2e8(%rsp), %r14
  movq <offset:1>+0x210(%rsp), %r15
  vmovss (%r15, %r14, 4), %xmm10
  vinsertps $0x20, %xmm10, %xmm13, %xmm14
  movdqu %xmm14, <offset:1>+0x2d0(%rsp)
  imulq $0x3, (%rip), %rax
  movq %rax, <offset:1>+0x2c8(%rsp)
  movq <offset:1>+0x2c8(%rsp), %rbx
  leaq (%rbx), %r8
  movq %r8, <offset:1>+0x2e0(%rsp)
  movq <offset:1>+0x2e0(%rsp), %r9
  cmpq $0x7, %r9
  jnbe    label59; j label58
block58:
  jmp     label60
block60:
  movdqu <offset:1>+0x2d0(%rsp), %xmm15
  movq <offset:1>+0x2c8(%rsp), %r11
  movq <offset:1>+0x210(%rsp), %r12
  vmovss (%r12, %r11, 4), %xmm12
  vinsertps $0x30, %xmm12, %xmm15, %xmm8
  movdqu <offset:1>+0x240(%rsp), %xmm2
  vmulps %xmm2, %xmm8, %xmm0
  movdqu %xmm0, <offset:1>+0x250(%rsp)
  vbroadcastss (%rip), %xmm1
  movdqu %xmm1, <offset:1>+0x2b0(%rsp)
  imulq $0x0, (%rip), %r13
  movq %r13, <offset:1>+0x2a8(%rsp)
  movq <offset:1>+0x2a8(%rsp), %r14
  leaq 1(%r14), %r15
  movq %r15, <offset:1>+0x2c0(%rsp)
  movq <offset:1>+0x2c0(%rsp), %rax
  cmpq $0x7, %rax
  jnbe    label62; j label61
block61:
  jmp     label63
block63:
  movdqu <offset:1>+0x2b0(%rsp), %xmm3
  movq <offset:1>+0x2a8(%rsp), %r8
  movq <offset:1>+0x210(%rsp), %r9
  vmovss 4(%r9, %r8, 4), %xmm11
  vinsertps $0x0, %xmm11, %xmm3, %xmm4
  movdqu %xmm4, <offset:1>+0x290(%rsp)
  imulq $0x1, (%rip), %r10
  movq %r10, <offset:1>+0x288(%rsp)
  movq <offset:1>+0x288(%rsp), %r11
  leaq 1(%r11), %r12
  movq %r12, <offset:1>+0x2a0(%rsp)
  movq <offset:1>+0x2a0(%rsp), %r13
  cmpq $0x7, %r13
  jnbe    label65; j label64
block64:
  jmp     label66
block66:
  movdqu <offset:1>+0x290(%rsp), %xmm5
  movq <offset:1>+0x288(%rsp), %r15
  movq <offset:1>+0x210(%rsp), %rax
  vmovss 4(%rax, %r15, 4), %xmm6
  vinsertps $0x10, %xmm6, %xmm5, %xmm7
  movdqu %xmm7, <offset:1>+0x270(%rsp)
  imulq $0x2, (%rip), %rbx
  movq %rbx, <offset:1>+0x268(%rsp)
  movq <offset:1>+0x268(%rsp), %r8
  leaq 1(%r8), %r9
  movq %r9, <offset:1>+0x280(%rsp)
  movq <offset:1>+0x280(%rsp), %r10
  cmpq $0x7, %r10
  jnbe    label68; j label67
block67:
  jmp     label69
block69:
  movdqu <offset:1>+0x270(%rsp), %xmm10
  movq <offset:1>+0x268(%rsp), %r12
  movq <offset:1>+0x210(%rsp), %r13
  vmovss 4(%r13, %r12, 4), %xmm9
  vinsertps $0x20, %xmm9, %xmm10, %xmm13
  movdqu %xmm13, <offset:1>+0x220(%rsp)
  imulq $0x3, (%rip), %r14
  movq %r14, <offset:1>+0x208(%rsp)
  movq <offset:1>+0x208(%rsp), %r15
  leaq 1(%r15), %rax
  movq %rax, <offset:1>+0x260(%rsp)
  movq <offset:1>+0x260(%rsp), %rbx
  cmpq $0x7, %rbx
  jnbe    label71; j label70
block70:
  jmp     label72
block72:
  movdqu <offset:1>+0x250(%rsp), %xmm6
  movdqu <offset:1>+0x240(%rsp), %xmm2
  movdqu <offset:1>+0x230(%rsp), %xmm0
  movdqu <offset:1>+0x220(%rsp), %xmm12
  movq <offset:1>+0x210(%rsp), %r10
  movq <offset:1>+0x208(%rsp), %r9
  vmovss 4(%r10, %r9, 4), %xmm14
  vinsertps $0x30, %xmm14, %xmm12, %xmm15
  vmulps %xmm2, %xmm15, %xmm8
  movdqu <offset:1>+0x190(%rsp), %xmm1
  vaddps %xmm0, %xmm1, %xmm11
  movdqu <offset:1>+0x190(%rsp), %xmm3
  vaddps %xmm2, %xmm3, %xmm4
  movdqu %xmm4, <offset:1>+0x1f0(%rsp)
  movdqu <offset:1>+0x190(%rsp), %xmm5
  vaddps %xmm6, %xmm5, %xmm7
  movdqu %xmm7, <offset:1>+0x1c0(%rsp)
  movdqu <offset:1>+0x190(%rsp), %xmm9
  vaddps %xmm8, %xmm9, %xmm10
  movdqu %xmm10, <offset:1>+0x180(%rsp)
  movdqu <offset:1>+0x190(%rsp), %xmm13
  vaddps %xmm13, %xmm11, %xmm14
  movdqu <offset:1>+0x190(%rsp), %xmm12
  vaddps %xmm12, %xmm14, %xmm15
  movdqu <offset:1>+0x190(%rsp), %xmm0
  vaddps %xmm0, %xmm15, %xmm1
  vpshufd $0x1, %xmm1, %xmm2
  vpshufd $0x2, %xmm1, %xmm3
  vpshufd $0x3, %xmm1, %xmm4
  vaddss %xmm2, %xmm1, %xmm6
  vaddss %xmm4, %xmm3, %xmm5
  vaddss %xmm5, %xmm6, %xmm7
  vaddss (%rip), %xmm7, %xmm8
  movdqu %xmm8, <offset:1>+0x1e0(%rsp)
  uninit  %r11
  xorq %r11, %r11
  movq %r11, <offset:1>+0x200(%rsp)
  uninit  %r12
  xorq %r12, %r12
  testq %r12, %r12
  jb      label74; j label73
block73:
  jmp     label75
block75:
  movdqu <offset:1>+0x1f0(%rsp), %xmm11
  movdqu <offset:1>+0x1e0(%rsp), %xmm9
  movq <offset:1>+0x20(%rsp), %r14
  vaddss 0x40(%r14), %xmm9, %xmm10
  movq <offset:1>+0x20(%rsp), %r15
  vmovss %xmm10, 0x40(%r15)
  movdqu <offset:1>+0x190(%rsp), %xmm13
  vaddps %xmm13, %xmm11, %xmm12
  movdqu <offset:1>+0x190(%rsp), %xmm14
  vaddps %xmm14, %xmm12, %xmm0
  movdqu <offset:1>+0x190(%rsp), %xmm15
  vaddps %xmm15, %xmm0, %xmm2
  vpshufd $0x1, %xmm2, %xmm1
  vpshufd $0x2, %xmm2, %xmm4
  vpshufd $0x3, %xmm2, %xmm3
  vaddss %xmm1, %xmm2, %xmm5
  vaddss %xmm3, %xmm4, %xmm6
  vaddss %xmm6, %xmm5, %xmm7
  vaddss (%rip), %xmm7, %xmm8
  movdqu %xmm8, <offset:1>+0x1b0(%rsp)
  uninit  %rax
  xorq %rax, %rax
  movq %rax, <offset:1>+0x1d0(%rsp)
  uninit  %rbx
  xorq %rbx, %rbx
  testq %rbx, %rbx
  jb      label77; j label76
block76:
  jmp     label78
block78:
  movdqu <offset:1>+0x1c0(%rsp), %xmm11
  movdqu <offset:1>+0x1b0(%rsp), %xmm9
  movq <offset:1>+0x20(%rsp), %r9
  vaddss 0x80(%r9), %xmm9, %xmm10
  movq <offset:1>+0x20(%rsp), %r10
  vmovss %xmm10, 0x80(%r10)
  movdqu <offset:1>+0x190(%rsp), %xmm13
  vaddps %xmm13, %xmm11, %xmm14
  movdqu <offset:1>+0x190(%rsp), %xmm12
  vaddps %xmm12, %xmm14, %xmm15
  movdqu <offset:1>+0x190(%rsp), %xmm0
  vaddps %xmm0, %xmm15, %xmm1
  vpshufd $0x1, %xmm1, %xmm2
  vpshufd $0x2, %xmm1, %xmm3
  vpshufd $0x3, %xmm1, %xmm4
  vaddss %xmm2, %xmm1, %xmm6
  vaddss %xmm4, %xmm3, %xmm5
  vaddss %xmm5, %xmm6, %xmm7
  vaddss (%rip), %xmm7, %xmm8
  movdqu %xmm8, <offset:1>+0x170(%rsp)
  uninit  %r11
  xorq %r11, %r11
  movq %r11, <offset:1>+0x1a0(%rsp)
  movl $0x1, %r12d
  testq %r12, %r12
  jb      label80; j label79
block79:
  jmp     label81
block81:
  movdqu <offset:1>+0x190(%rsp), %xmm13
  movdqu <offset:1>+0x180(%rsp), %xmm11
  movdqu <offset:1>+0x170(%rsp), %xmm9
  movq <offset:1>+0x20(%rsp), %r14
  vaddss (%r14), %xmm9, %xmm10
  movq <offset:1>+0x20(%rsp), %r15
  vmovss %xmm10, (%r15)
  vaddps %xmm13, %xmm11, %xmm12
  vaddps %xmm13, %xmm12, %xmm14
  vaddps %xmm13, %xmm14, %xmm0
  vpshufd $0x1, %xmm0, %xmm15
  vpshufd $0x2, %xmm0, %xmm2
  vpshufd $0x3, %xmm0, %xmm1
  vaddss %xmm15, %xmm0, %xmm4
  vaddss %xmm1, %xmm2, %xmm3
  vaddss %xmm3, %xmm4, %xmm5
  vaddss (%rip), %xmm5, %xmm6
  movdqu %xmm6, <offset:1>+0x150(%rsp)
  movl $0x1, %eax
  movq %rax, <offset:1>+0x160(%rsp)
  movl $0x1, %ebx
  cmpq $0x1, %rbx
  jb      label83; j label82
block82:
  jmp     label84
block84:
  movdqu <offset:1>+0x150(%rsp), %xmm7
  movq <offset:1>+0x20(%rsp), %r9
  vaddss 4(%r9), %xmm7, %xmm8
  movq <offset:1>+0x20(%rsp), %r10
  vmovss %xmm8, 4(%r10)
  uninit  %r11
  xorq %r11, %r11
  movq %r11, <offset:1>+0x140(%rsp)
  uninit  %r12
  xorq %r12, %r12
  testq %r12, %r12
  jb      label86; j label85
block85:
  jmp     label87
block87:
  movl $0x3e800000, %r14d
  vmovd %r14d, %xmm9
  movq <offset:1>+0x20(%rsp), %r15
  vmulss 0x40(%r15), %xmm9, %xmm10
  movdqu %xmm10, <offset:1>+0x120(%rsp)
  uninit  %rax
  xorq %rax, %rax
  movq %rax, <offset:1>+0x138(%rsp)
  uninit  %rbx
  xorq %rbx, %rbx
  testq %rbx, %rbx
  jb      label89; j label88
block88:
  jmp     label90
block90:
  movq <offset:1>+0x130(%rsp), %r9
  movdqu <offset:1>+0x120(%rsp), %xmm11
  vmovss %xmm11, (%r9)
  uninit  %r10
  xorq %r10, %r10
  movq %r10, <offset:1>+0x110(%rsp)
  uninit  %r11
  xorq %r11, %r11
  testq %r11, %r11
  jb      label92; j label91
block91:
  jmp     label93
block93:
  movq <offset:1>+0x60(%rsp), %r13
  movq <offset:1>+0x68(%rsp), %r14
  vmovss (%r14, %r13, 4), %xmm12
  movdqu %xmm12, <offset:1>+0xa0(%rsp)
  uninit  %r15
  xorq %r15, %r15
  movq %r15, <offset:1>+0x108(%rsp)
  movl $0x1, %eax
  testq %rax, %rax
  jb      label95; j label94
block94:
  jmp     label96
block96:
  movq <offset:1>+0x90(%rsp), %r8
  vmovss (%r8), %xmm13
  movdqu %xmm13, <offset:1>+0xf0(%rsp)
  uninit  %r9
  xorq %r9, %r9
  movq %r9, <offset:1>+0x100(%rsp)
  movl $0x1, %r10d
  testq %r10, %r10
  jb      label98; j label97
block97:
  jmp     label99
block99:
  movdqu <offset:1>+0xf0(%rsp), %xmm0
  movq <offset:1>+0x20(%rsp), %r12
  movdqu <offset:1>+0xa0(%rsp), %xmm14
  vmulss (%r12), %xmm14, %xmm15
  vsubss %xmm15, %xmm0, %xmm1
  movdqu %xmm1, <offset:1>+0xd0(%rsp)
  uninit  %r13
  xorq %r13, %r13
  movq %r13, <offset:1>+0xe0(%rsp)
  movl $0x1, %r14d
  testq %r14, %r14
  jb      label101; j label100
block100:
  jmp     label102
block102:
  movdqu <offset:1>+0xd0(%rsp), %xmm2
  movq <offset:1>+0x90(%rsp), %rax
  vmovss %xmm2, (%rax)
  movl $0x1, %ebx
  movq %rbx, <offset:1>+0xc8(%rsp)
  movl $0x1, %r8d
  cmpq $0x1, %r8
  jb      label104; j label103
block103:
  jmp     label105
block105:
  movq <offset:1>+0x90(%rsp), %r10
  vmovss 4(%r10), %xmm3
  movdqu %xmm3, <offset:1>+0xb0(%rsp)
  movl $0x1, %r11d
  movq %r11, <offset:1>+0xc0(%rsp)
  movl $0x1, %r12d
  cmpq $0x1, %r12
  jb      label107; j label106
block106:
  jmp     label108
block108:
  movdqu <offset:1>+0xb0(%rsp), %xmm6
  movdqu <offset:1>+0xa0(%rsp), %xmm4
  movq <offset:1>+0x20(%rsp), %r14
  vmulss 4(%r14), %xmm4, %xmm5
  vsubss %xmm5, %xmm6, %xmm7
  movdqu %xmm7, <offset:1>+0x80(%rsp)
  movl $0x1, %r15d
  movq %r15, <offset:1>+0x98(%rsp)
  movl $0x1, %eax
  cmpq $0x1, %rax
  jb      label110; j label109
block109:
  jmp     label111
block111:
  movq <offset:1>+0x90(%rsp), %r8
  movdqu <offset:1>+0x80(%rsp), %xmm8
  vmovss %xmm8, 4(%r8)
  uninit  %r9
  xorq %r9, %r9
  movq %r9, <offset:1>+0x70(%rsp)
  uninit  %r10
  xorq %r10, %r10
  testq %r10, %r10
  jb      label113; j label112
block112:
  jmp     label114
block114:
  movq <offset:1>+0x68(%rsp), %r13
  movq <offset:1>+0x60(%rsp), %r12
  vmovss (%r13, %r12, 4), %xmm9
  movdqu %xmm9, <offset:1>+0x30(%rsp)
  uninit  %r14
  xorq %r14, %r14
  movq %r14, <offset:1>+0x58(%rsp)
  uninit  %r15
  xorq %r15, %r15
  testq %r15, %r15
  jb      label116; j label115
block115:
  jmp     label117
block117:
  movq <offset:1>+0x10(%rsp), %rbx
  vmovss (%rbx), %xmm10
  movdqu %xmm10, <offset:1>+0x40(%rsp)
  uninit  %r8
  xorq %r8, %r8
  movq %r8, <offset:1>+0x50(%rsp)
  uninit  %r9
  xorq %r9, %r9
  testq %r9, %r9
  jb      label119; j label118
block118:
  jmp     label120
block120:
  movdqu <offset:1>+0x40(%rsp), %xmm13
  movdqu <offset:1>+0x30(%rsp), %xmm11
  movq <offset:1>+0x20(%rsp), %r11
  vmulss 0x80(%r11), %xmm11, %xmm12
  vsubss %xmm12, %xmm13, %xmm14
  movdqu %xmm14, <offset:1>+(%rsp)
  uninit  %r12
  xorq %r12, %r12
  movq %r12, <offset:1>+0x18(%rsp)
  uninit  %r13
  xorq %r13, %r13
  testq %r13, %r13
  jb      label122; j label121
block121:
  jmp     label123
block123:
  movq <offset:1>+0x10(%rsp), %r15
  movdqu <offset:1>+(%rsp), %xmm15
  vmovss %xmm15, (%r15)
  movq 0x5b0(%rsp), %rbx
  movq 0x5b8(%rsp), %r12
  movq 0x5c0(%rsp), %r13
  movq 0x5c8(%rsp), %r14
  movq 0x5d0(%rsp), %r15
  addq $0x5e0, %rsp
  movq %rbp, %rsp
  popq %rbp
  retq
block2:
  movq <offset:1>+0x5a0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x6, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %r14
  call    *%r14
  jmp     label3
block5:
  movq <offset:1>+0x580(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x7, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %r8
  call    *%r8
  jmp     label6
block8:
  movq <offset:1>+0x568(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x9, %esi
  movl $0x2, %ecx
  load_ext_name userextname1+0, %r12
  call    *%r12
  jmp     label9
block11:
  movq <offset:1>+0x560(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x9, %esi
  movl $0x2, %ecx
  load_ext_name userextname1+0, %rax
  call    *%rax
  jmp     label12
block14:
  movq <offset:1>+0x540(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r12
  movq %rdi, %rsi
  call    *%r12
  jmp     label15
block17:
  movq <offset:1>+0x530(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r9
  movq %rdi, %rsi
  call    *%r9
  jmp     label18
block20:
  movq <offset:1>+0x510(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %rax
  movq %rdi, %rsi
  call    *%rax
  jmp     label21
block23:
  movq <offset:1>+0x4f0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r13
  movq %rdi, %rsi
  call    *%r13
  jmp     label24
block26:
  movq <offset:1>+0x4d0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x3, %esi
  movl $0x2, %ecx
  load_ext_name userextname1+0, %r8
  call    *%r8
  jmp     label27
block29:
  movq <offset:1>+0x4b0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r14
  movq %rdi, %rsi
  call    *%r14
  jmp     label30
block32:
  movq <offset:1>+0x490(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r11
  movq %rdi, %rsi
  call    *%r11
  jmp     label33
block35:
  movq <offset:1>+0x470(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r8
  movq %rdi, %rsi
  call    *%r8
  jmp     label36
block38:
  movq <offset:1>+0x450(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r15
  movq %rdi, %rsi
  call    *%r15
  jmp     label39
block41:
  movq <offset:1>+0x430(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x3, %esi
  movl $0x2, %ecx
  load_ext_name userextname1+0, %r10
  call    *%r10
  jmp     label42
block44:
  movq <offset:1>+0x400(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x4, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %r14
  call    *%r14
  jmp     label45
block47:
  movq <offset:1>+0x390(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x1, %esi
  movl $0x4, %ecx
  load_ext_name userextname1+0, %r12
  call    *%r12
  jmp     label48
block50:
  movq <offset:1>+0x340(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r9
  movq %rdi, %rsi
  call    *%r9
  jmp     label51
block53:
  movq <offset:1>+0x320(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %rax
  movq %rdi, %rsi
  call    *%rax
  jmp     label54
block56:
  movq <offset:1>+0x300(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r13
  movq %rdi, %rsi
  call    *%r13
  jmp     label57
block59:
  movq <offset:1>+0x2e0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r10
  movq %rdi, %rsi
  call    *%r10
  jmp     label60
block62:
  movq <offset:1>+0x2c0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %rbx
  movq %rdi, %rsi
  call    *%rbx
  jmp     label63
block65:
  movq <offset:1>+0x2a0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r14
  movq %rdi, %rsi
  call    *%r14
  jmp     label66
block68:
  movq <offset:1>+0x280(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r11
  movq %rdi, %rsi
  call    *%r11
  jmp     label69
block71:
  movq <offset:1>+0x260(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r8
  movq %rdi, %rsi
  call    *%r8
  jmp     label72
block74:
  movq <offset:1>+0x200(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x6, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %r13
  call    *%r13
  jmp     label75
block77:
  movq <offset:1>+0x1d0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x7, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %r8
  call    *%r8
  jmp     label78
block80:
  movq <offset:1>+0x1a0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x9, %esi
  movl $0x2, %ecx
  load_ext_name userextname1+0, %r13
  call    *%r13
  jmp     label81
block83:
  movq <offset:1>+0x160(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x9, %esi
  movl $0x2, %ecx
  load_ext_name userextname1+0, %r8
  call    *%r8
  jmp     label84
block86:
  movq <offset:1>+0x140(%rsp), %rdx
  movl $0x1, %edi
  movl $0x6, %esi
  load_ext_name userextname1+0, %r13
  movq %rdi, %rcx
  call    *%r13
  jmp     label87
block89:
  movq <offset:1>+0x138(%rsp), %rdx
  movl $0x1, %edi
  movl $0x5, %esi
  load_ext_name userextname1+0, %r8
  movq %rdi, %rcx
  call    *%r8
  jmp     label90
block92:
  movq <offset:1>+0x110(%rsp), %rdx
  movl $0x2, %edi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %r12
  movq %rdi, %rsi
  call    *%r12
  jmp     label93
block95:
  movq <offset:1>+0x108(%rsp), %rdx
  movl $0x2, %edi
  movl $0x3, %esi
  load_ext_name userextname1+0, %rbx
  movq %rdi, %rcx
  call    *%rbx
  jmp     label96
block98:
  movq <offset:1>+0x100(%rsp), %rdx
  movl $0x2, %edi
  movl $0x9, %esi
  load_ext_name userextname1+0, %r11
  movq %rdi, %rcx
  call    *%r11
  jmp     label99
block101:
  movq <offset:1>+0xe0(%rsp), %rdx
  movl $0x2, %edi
  movl $0x3, %esi
  load_ext_name userextname1+0, %r15
  movq %rdi, %rcx
  call    *%r15
  jmp     label102
block104:
  movq <offset:1>+0xc8(%rsp), %rdx
  movl $0x2, %edi
  movl $0x3, %esi
  load_ext_name userextname1+0, %r9
  movq %rdi, %rcx
  call    *%r9
  jmp     label105
block107:
  movq <offset:1>+0xc0(%rsp), %rdx
  movl $0x2, %edi
  movl $0x9, %esi
  load_ext_name userextname1+0, %r13
  movq %rdi, %rcx
  call    *%r13
  jmp     label108
block110:
  movq <offset:1>+0x98(%rsp), %rdx
  movl $0x2, %edi
  movl $0x3, %esi
  load_ext_name userextname1+0, %rbx
  movq %rdi, %rcx
  call    *%rbx
  jmp     label111
block113:
  movq <offset:1>+0x70(%rsp), %rdx
  movl $0x3, %edi
  movl $0x2, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %r11
  call    *%r11
  jmp     label114
block116:
  movq <offset:1>+0x58(%rsp), %rdx
  movl $0x3, %edi
  movl $0x4, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %rax
  call    *%rax
  jmp     label117
block119:
  movq <offset:1>+0x50(%rsp), %rdx
  movl $0x3, %edi
  movl $0x7, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %r10
  call    *%r10
  jmp     label120
block122:
  movq <offset:1>+0x18(%rsp), %rdx
  movl $0x3, %edi
  movl $0x4, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %r14
  call    *%r14
  jmp     label123

; train.0 (496 bytes, not optimised)
  pushq %rbp
  unwind PushFrameRegs { offset_upward_to_caller_sp: 16 }
  movq %rsp, %rbp
  unwind DefineNewFrame { offset_upward_to_caller_sp: 16, offset_downward_to_clobbers: 48 }
  subq $0xb0, %rsp
  movq %rbx, 0x80(%rsp)
  unwind SaveReg { clobber_offset: 0, reg: p3i }
  movq %r12, 0x88(%rsp)
  unwind SaveReg { clobber_offset: 8, reg: p12i }
  movq %r13, 0x90(%rsp)
  unwind SaveReg { clobber_offset: 16, reg: p13i }
  movq %r14, 0x98(%rsp)
  unwind SaveReg { clobber_offset: 24, reg: p14i }
  movq %r15, 0xa0(%rsp)
  unwind SaveReg { clobber_offset: 32, reg: p15i }
block0:
  movq %rdi, <offset:1>+0x50(%rsp)
  movq <offset:1>+0x50(%rsp), %rdx
  movq 0x30(%rdx), %rsi
  movq %rsi, <offset:1>+0x58(%rsp)
  movq <offset:1>+0x50(%rsp), %rcx
  movq 0x38(%rcx), %rdi
  movq %rdi, <offset:1>+0x68(%rsp)
  movq <offset:1>+0x50(%rsp), %rbx
  movq 0x40(%rbx), %r8
  movq %r8, <offset:1>+0x38(%rsp)
  movq <offset:1>+0x50(%rsp), %r10
  movq 0x48(%r10), %r9
  movq %r9, <offset:1>+0x30(%rsp)
  movq <offset:1>+0x50(%rsp), %r11
  movq 0x50(%r11), %rax
  movq %rax, <offset:1>+0x48(%rsp)
  uninit  %r12
  xorq %r12, %r12
  movq %r12, <offset:1>+0x70(%rsp)
  movq <offset:1>+0x70(%rsp), %r12
  movq %r12, <offset:1>+8(%rsp)
  jmp     label1
block1:
  movq <offset:1>+0x68(%rsp), %r14
  uninit  %r13
  xorl %r13d, %r13d
  movq %r13, <offset:1>+0x60(%rsp)
  movq <offset:1>+8(%rsp), %r15
  cmpq %r14, %r15
  jnb     label2; j label3
block2:
  movq <offset:1>+0x60(%rsp), %r15
  movq %r15, <offset:1>+(%rsp)
  jmp     label8
block3:
  movq <offset:1>+0x58(%rsp), %rbx
  movq <offset:1>+0x50(%rsp), %rdi
  uninit  %rdx
  xorq %rdx, %rdx
  imulq $0x0, (%rip), %rsi
  load_ext_name userextname2+0, %rcx
  call    *%rcx
  movq <offset:1>+0x48(%rsp), %r8
  vmovss (%rbx), %xmm11
  uninit  %xmm10
  vxorpd %xmm10, %xmm10, %xmm12
  vcvtss2sd %xmm11, %xmm12, %xmm13
  vmulsd (%rip), %xmm13, %xmm14
  vaddsd (%rip), %xmm14, %xmm15
  movdqu %xmm15, <offset:1>+0x20(%rsp)
  movl (%r8), %r10d
  movl $0x2, %r9d
  movq %r9, <offset:1>+0x40(%rsp)
  testl %r10d, %r10d
  jnz     label4; j label5
block4:
  movq <offset:1>+0x40(%rsp), %r10
  movq %r10, <offset:1>+(%rsp)
  jmp     label8
block5:
  movq <offset:1>+8(%rsp), %r12
  movq <offset:1>+0x38(%rsp), %r11
  movq <offset:1>+0x30(%rsp), %rdi
  movdqu <offset:1>+0x20(%rsp), %xmm0
  movq %r12, %rsi
  call    *%r11
  movq %rax, <offset:1>+0x18(%rsp)
  leaq 1(%r12), %r13
  movq %r13, <offset:1>+0x10(%rsp)
  movq <offset:1>+0x18(%rsp), %r14
  movq <offset:1>+0x18(%rsp), %r15
  testl %r14d, %r15d
  jnz     label6; j label7
block6:
  movq <offset:1>+0x18(%rsp), %r15
  movq %r15, <offset:1>+(%rsp)
  jmp     label8
block7:
  movq <offset:1>+0x10(%rsp), %r15
  movq %r15, <offset:1>+8(%rsp)
  jmp     label1
block8:
  movq <offset:1>+(%rsp), %rax
  movq 0x80(%rsp), %rbx
  movq 0x88(%rsp), %r12
  movq 0x90(%rsp), %r13
  movq 0x98(%rsp), %r14
  movq 0xa0(%rsp), %r15
  addq $0xb0, %rsp
  movq %rbp, %rsp
  popq %rbp
  retq

; step.1 (1248 bytes)
  pushq %rbp
  unwind PushFrameRegs { offset_upward_to_caller_sp: 16 }
  movq %rsp, %rbp
  unwind DefineNewFrame { offset_upward_to_caller_sp: 16, offset_downward_to_clobbers: 0 }
  subq $0x10, %rsp
block0:
  movq 0x30(%rdi), %rax
  movq (%rdi), %r9
  movq 8(%rdi), %r8
  movq 0x10(%rdi), %rsi
  movq 0x18(%rdi), %rdx
  movq 0x20(%rdi), %rcx
  movq 0x28(%rdi), %rdi
  jmp     label1
block1:
  uninit  %xmm0
  vxorps %xmm0, %xmm0, %xmm0
  vmovss %xmm0, 0x40(%rax)
  jmp     label2
block2:
  uninit  %xmm0
  vxorps %xmm0, %xmm0, %xmm0
  vmovss %xmm0, 0x80(%rax)
  jmp     label3
block3:
  uninit  %xmm0
  vxorps %xmm0, %xmm0, %xmm0
  vmovss %xmm0, (%rax)
  jmp     label4
block4:
  uninit  %xmm0
  vxorps %xmm0, %xmm0, %xmm0
  vmovss %xmm0, 4(%rax)
  jmp     label5
block5:
  jmp     label6
block6:
  jmp     label7
block7:
  jmp     label8
block8:
  jmp     label9
block9:
  vmovss (%rdx), %xmm2
  jmp     label10
block10:
  jmp     label11
block11:
  jmp     label12
block12:
  jmp     label13
block13:
  jmp     label14
block14:
  vmovss 4(%rdx), %xmm1
  jmp     label15
block15:
  vmovss (%rcx), %xmm5
  jmp     label16
block16:
  jmp     label17
block17:
  jmp     label18
block18:
  jmp     label19
block19:
  jmp     label20
block20:
  jmp     label21
block21:
  jmp     label22
block22:
  jmp     label23
block23:
  jmp     label24
block24:
  jmp     label25
block25:
  vmovss 0x40(%rax), %xmm3
  uninit  %xmm0
  vxorps %xmm0, %xmm0, %xmm0
  vmovups (%rip), %xmm4
  vbroadcastss %xmm1, %xmm6
  vmovss 4(%r9), %xmm1
  vinsertps $0x0, %xmm1, %xmm0, %xmm1
  vmovss 0xc(%r9), %xmm7
  vinsertps $0x10, %xmm7, %xmm1, %xmm1
  vmovss 0x14(%r9), %xmm7
  vinsertps $0x20, %xmm7, %xmm1, %xmm1
  vmovss 0x1c(%r9), %xmm7
  vinsertps $0x30, %xmm7, %xmm1, %xmm1
  movdqu %xmm1, <offset:1>+(%rsp)
  vbroadcastss %xmm2, %xmm7
  vmovss (%r9), %xmm1
  vinsertps $0x0, %xmm1, %xmm0, %xmm2
  vmovss 8(%r9), %xmm1
  vinsertps $0x10, %xmm1, %xmm2, %xmm2
  vmovss 0x10(%r9), %xmm1
  vinsertps $0x20, %xmm1, %xmm2, %xmm2
  vmovss 0x18(%r9), %xmm1
  vinsertps $0x30, %xmm1, %xmm2, %xmm2
  vfmadd213ps %xmm0, %xmm2, %xmm7
  movdqu <offset:1>+(%rsp), %xmm1
  vfmadd213ps %xmm7, %xmm1, %xmm6
  vbroadcastss %xmm5, %xmm1
  vaddps %xmm1, %xmm6, %xmm5
  uninit  %xmm7
  vpcmpeqd %xmm7, %xmm7, %xmm1
  vpslld $0x1f, %xmm1, %xmm1
  vxorps %xmm1, %xmm5, %xmm5
  vcmpneqps %xmm5, %xmm5, %xmm6
  vmovups (%rip), %xmm12
  vcmpltps %xmm5, %xmm12, %xmm7
  vmovups (%rip), %xmm10
  vmovups (%rip), %xmm13
  vcmpltps %xmm13, %xmm5, %xmm11
  vmovups (%rip), %xmm8
  vmaxps %xmm5, %xmm13, %xmm1
  vpblendvb %xmm7, %xmm12, %xmm1, %xmm13
  vmovups (%rip), %xmm14
  vmovups (%rip), %xmm15
  movdqa %xmm13, %xmm12
  vfmadd213ps %xmm15, %xmm14, %xmm12
  vsubps %xmm15, %xmm12, %xmm9
  vmovups (%rip), %xmm14
  vmovups (%rip), %xmm15
  movdqa %xmm9, %xmm1
  vfmadd213ps %xmm13, %xmm15, %xmm1
  vfmadd213ps %xmm1, %xmm14, %xmm9
  vmovups (%rip), %xmm1
  vfmadd213ps %xmm1, %xmm9, %xmm8
  vmovups (%rip), %xmm1
  vfmadd213ps %xmm1, %xmm9, %xmm8
  vmovups (%rip), %xmm1
  vfmadd213ps %xmm1, %xmm9, %xmm8
  vmovups (%rip), %xmm1
  vfmadd213ps %xmm1, %xmm9, %xmm8
  vmovups (%rip), %xmm1
  vfmadd213ps %xmm1, %xmm9, %xmm8
  vmulps %xmm9, %xmm9, %xmm1
  vfmadd213ps %xmm9, %xmm1, %xmm8
  vaddps %xmm4, %xmm8, %xmm13
  vmovdqu (%rip), %xmm1
  vpsubd %xmm1, %xmm12, %xmm1
  vpslld $0x17, %xmm1, %xmm1
  vpaddd %xmm1, %xmm13, %xmm1
  vpblendvb %xmm11, %xmm0, %xmm1, %xmm1
  vpblendvb %xmm7, %xmm10, %xmm1, %xmm1
  vpblendvb %xmm6, %xmm5, %xmm1, %xmm5
  vaddps %xmm4, %xmm5, %xmm6
  vdivps %xmm6, %xmm4, %xmm4
  vmovups (%r8), %xmm1
  vsubps %xmm1, %xmm4, %xmm7
  vmulps %xmm7, %xmm7, %xmm1
  vaddps %xmm1, %xmm0, %xmm1
  vaddps %xmm0, %xmm1, %xmm1
  vaddps %xmm0, %xmm1, %xmm1
  vaddps %xmm0, %xmm1, %xmm10
  vpshufd $0x1, %xmm10, %xmm1
  vaddss %xmm1, %xmm10, %xmm11
  vpshufd $0x2, %xmm10, %xmm1
  vpshufd $0x3, %xmm10, %xmm10
  vaddss %xmm10, %xmm1, %xmm1
  vaddss %xmm1, %xmm11, %xmm1
  vaddss (%rip), %xmm1, %xmm1
  vaddss %xmm1, %xmm3, %xmm1
  vmovss %xmm1, 0x40(%rax)
  jmp     label26
block26:
  vmovups (%rip), %xmm1
  vmulps %xmm1, %xmm7, %xmm1
  vaddps %xmm1, %xmm1, %xmm1
  vdivps %xmm6, %xmm1, %xmm1
  vmulps %xmm1, %xmm4, %xmm3
  uninit  %xmm1
  vpcmpeqd %xmm1, %xmm1, %xmm1
  vpslld $0x1f, %xmm1, %xmm1
  vxorps %xmm1, %xmm3, %xmm1
  vmulps %xmm1, %xmm5, %xmm3
  uninit  %xmm1
  vpcmpeqd %xmm1, %xmm1, %xmm1
  vpslld $0x1f, %xmm1, %xmm1
  vxorps %xmm1, %xmm3, %xmm3
  vaddps %xmm3, %xmm0, %xmm1
  vaddps %xmm0, %xmm1, %xmm1
  vaddps %xmm0, %xmm1, %xmm1
  vaddps %xmm0, %xmm1, %xmm4
  vpshufd $0x1, %xmm4, %xmm1
  vaddss %xmm1, %xmm4, %xmm5
  vpshufd $0x2, %xmm4, %xmm1
  vpshufd $0x3, %xmm4, %xmm4
  vaddss %xmm4, %xmm1, %xmm1
  vaddss %xmm1, %xmm5, %xmm1
  vaddss (%rip), %xmm1, %xmm1
  vaddss 0x80(%rax), %xmm1, %xmm1
  vmovss %xmm1, 0x80(%rax)
  jmp     label27
block27:
  vmulps %xmm3, %xmm2, %xmm1
  vaddps %xmm1, %xmm0, %xmm1
  vaddps %xmm0, %xmm1, %xmm1
  vaddps %xmm0, %xmm1, %xmm1
  vaddps %xmm0, %xmm1, %xmm2
  vpshufd $0x1, %xmm2, %xmm1
  vaddss %xmm1, %xmm2, %xmm4
  vpshufd $0x2, %xmm2, %xmm1
  vpshufd $0x3, %xmm2, %xmm2
  vaddss %xmm2, %xmm1, %xmm1
  vaddss %xmm1, %xmm4, %xmm1
  vaddss (%rip), %xmm1, %xmm1
  vaddss (%rax), %xmm1, %xmm1
  vmovss %xmm1, (%rax)
  jmp     label28
block28:
  movdqu <offset:1>+(%rsp), %xmm1
  vmulps %xmm3, %xmm1, %xmm1
  vaddps %xmm1, %xmm0, %xmm1
  vaddps %xmm0, %xmm1, %xmm1
  vaddps %xmm0, %xmm1, %xmm1
  vaddps %xmm0, %xmm1, %xmm0
  vpshufd $0x1, %xmm0, %xmm1
  vaddss %xmm1, %xmm0, %xmm1
  vpshufd $0x2, %xmm0, %xmm2
  vpshufd $0x3, %xmm0, %xmm0
  vaddss %xmm0, %xmm2, %xmm0
  vaddss %xmm0, %xmm1, %xmm0
  vaddss (%rip), %xmm0, %xmm0
  vaddss 4(%rax), %xmm0, %xmm0
  vmovss %xmm0, 4(%rax)
  jmp     label29
block29:
  vmovss 0x40(%rax), %xmm0
  jmp     label30
block30:
  vmulss (%rip), %xmm0, %xmm0
  vmovss %xmm0, (%rdi)
  jmp     label31
block31:
  jmp     label32
block32:
  vmovss (%rdx), %xmm1
  jmp     label33
block33:
  vmovss (%rax), %xmm2
  jmp     label34
block34:
  vmovss (%rsi), %xmm0
  vmulss %xmm0, %xmm2, %xmm2
  vsubss %xmm2, %xmm1, %xmm1
  vmovss %xmm1, (%rdx)
  jmp     label35
block35:
  vmovss 4(%rdx), %xmm1
  jmp     label36
block36:
  vmovss 4(%rax), %xmm2
  jmp     label37
block37:
  vmulss %xmm0, %xmm2, %xmm2
  vsubss %xmm2, %xmm1, %xmm1
  vmovss %xmm1, 4(%rdx)
  jmp     label38
block38:
  jmp     label39
block39:
  vmovss (%rcx), %xmm1
  jmp     label40
block40:
  vmovss 0x80(%rax), %xmm2
  jmp     label41
block41:
  vmulss %xmm0, %xmm2, %xmm0
  vsubss %xmm0, %xmm1, %xmm0
  vmovss %xmm0, (%rcx)
  addq $0x10, %rsp
  movq %rbp, %rsp
  popq %rbp
  retq

; eval.train.2 (2736 bytes, not optimised)
  pushq %rbp
  unwind PushFrameRegs { offset_upward_to_caller_sp: 16 }
  movq %rsp, %rbp
  unwind DefineNewFrame { offset_upward_to_caller_sp: 16, offset_downward_to_clobbers: 48 }
  subq $0x2b0, %rsp
  movq %rbx, 0x280(%rsp)
  unwind SaveReg { clobber_offset: 0, reg: p3i }
  movq %r12, 0x288(%rsp)
  unwind SaveReg { clobber_offset: 8, reg: p12i }
  movq %r13, 0x290(%rsp)
  unwind SaveReg { clobber_offset: 16, reg: p13i }
  movq %r14, 0x298(%rsp)
  unwind SaveReg { clobber_offset: 24, reg: p14i }
  movq %r15, 0x2a0(%rsp)
  unwind SaveReg { clobber_offset: 32, reg: p15i }
block0:
  movq %rdi, %r13
  movq 0x30(%r13), %rdx
  movq %rdx, <offset:1>+0x20(%rsp)
  movq (%r13), %r8
  movq %r8, <offset:1>+0x158(%rsp)
  movq 8(%r13), %r9
  movq %r9, <offset:1>+0x98(%rsp)
  movq 0x10(%r13), %r10
  movq %r10, <offset:1>+0x128(%rsp)
  movq 0x18(%r13), %r11
  movq %r11, <offset:1>+0x100(%rsp)
  movq 0x20(%r13), %r12
  movq %r12, <offset:1>+0x60(%rsp)
  movq 0x28(%r13), %r14
  movq %r14, <offset:1>+0x10(%rsp)
  uninit  %xmm14
  vxorps %xmm14, %xmm14, %xmm6
  movdqu %xmm6, <offset:1>+0x260(%rsp)
  uninit  %r15
  xorq %r15, %r15
  movq %r15, <offset:1>+0x270(%rsp)
  uninit  %rax
  xorq %rax, %rax
  testq %rax, %rax
  jb      label2; j label1
block1:
  jmp     label3
block3:
  movdqu <offset:1>+0x260(%rsp), %xmm10
  movq <offset:1>+0x20(%rsp), %r8
  vmovss %xmm10, (%r8)
  vbroadcastss (%rip), %xmm15
  movdqu %xmm15, <offset:1>+0x80(%rsp)
  uninit  %r9
  xorq %r9, %r9
  movq %r9, <offset:1>+0x258(%rsp)
  movl $0x7, %r10d
  testq %r10, %r10
  jb      label5; j label4
block4:
  jmp     label6
block6:
  movq <offset:1>+0x158(%rsp), %r12
  vmovss (%r12), %xmm13
  movdqu <offset:1>+0x80(%rsp), %xmm4
  vinsertps $0x0, %xmm13, %xmm4, %xmm0
  movdqu %xmm0, <offset:1>+0x240(%rsp)
  movl $0x2, %r13d
  movq %r13, <offset:1>+0x250(%rsp)
  movl $0x7, %r14d
  cmpq $0x2, %r14
  jb      label8; j label7
block7:
  jmp     label9
block9:
  movdqu <offset:1>+0x240(%rsp), %xmm2
  movq <offset:1>+0x158(%rsp), %rax
  vmovss 8(%rax), %xmm7
  vinsertps $0x10, %xmm7, %xmm2, %xmm3
  movdqu %xmm3, <offset:1>+0x220(%rsp)
  movl $0x4, %ebx
  movq %rbx, <offset:1>+0x230(%rsp)
  movl $0x7, %r8d
  cmpq $0x4, %r8
  jb      label11; j label10
block10:
  jmp     label12
block12:
  movdqu <offset:1>+0x220(%rsp), %xmm11
  movq <offset:1>+0x158(%rsp), %r10
  vmovss 0x10(%r10), %xmm8
  vinsertps $0x20, %xmm8, %xmm11, %xmm5
  movdqu %xmm5, <offset:1>+0x200(%rsp)
  movl $0x6, %r11d
  movq %r11, <offset:1>+0x210(%rsp)
  movl $0x7, %r12d
  cmpq $0x6, %r12
  jb      label14; j label13
block13:
  jmp     label15
block15:
  movdqu <offset:1>+0x200(%rsp), %xmm12
  movq <offset:1>+0x158(%rsp), %r14
  vmovss 0x18(%r14), %xmm9
  vinsertps $0x30, %xmm9, %xmm12, %xmm1
  movdqu %xmm1, <offset:1>+0x1e0(%rsp)
  uninit  %r15
  xorq %r15, %r15
  movq %r15, <offset:1>+0x1f0(%rsp)
  movl $0x1, %eax
  testq %rax, %rax
  jb      label17; j label16
block16:
  jmp     label18
block18:
  movdqu <offset:1>+0x1e0(%rsp), %xmm15
  movq <offset:1>+0x128(%rsp), %r8
  vmovss (%r8), %xmm14
  vbroadcastss %xmm14, %xmm6
  movdqu <offset:1>+0x80(%rsp), %xmm10
  vfmadd213ps %xmm10, %xmm15, %xmm6
  movdqu %xmm6, <offset:1>+0x130(%rsp)
  vbroadcastss (%rip), %xmm13
  movdqu %xmm13, <offset:1>+0x1c0(%rsp)
  movl $0x1, %r9d
  movq %r9, <offset:1>+0x1d0(%rsp)
  movl $0x7, %r10d
  cmpq $0x1, %r10
  jb      label20; j label19
block19:
  jmp     label21
block21:
  movdqu <offset:1>+0x1c0(%rsp), %xmm0
  movq <offset:1>+0x158(%rsp), %r12
  vmovss 4(%r12), %xmm4
  vinsertps $0x0, %xmm4, %xmm0, %xmm7
  movdqu %xmm7, <offset:1>+0x1a0(%rsp)
  movl $0x3, %r13d
  movq %r13, <offset:1>+0x1b0(%rsp)
  movl $0x7, %r14d
  cmpq $0x3, %r14
  jb      label23; j label22
block22:
  jmp     label24
block24:
  movdqu <offset:1>+0x1a0(%rsp), %xmm3
  movq <offset:1>+0x158(%rsp), %rax
  vmovss 0xc(%rax), %xmm2
  vinsertps $0x10, %xmm2, %xmm3, %xmm8
  movdqu %xmm8, <offset:1>+0x180(%rsp)
  movl $0x5, %ebx
  movq %rbx, <offset:1>+0x190(%rsp)
  movl $0x7, %r8d
  cmpq $0x5, %r8
  jb      label26; j label25
block25:
  jmp     label27
block27:
  movdqu <offset:1>+0x180(%rsp), %xmm5
  movq <offset:1>+0x158(%rsp), %r10
  vmovss 0x14(%r10), %xmm11
  vinsertps $0x20, %xmm11, %xmm5, %xmm9
  movdqu %xmm9, <offset:1>+0x160(%rsp)
  movl $0x7, %r11d
  movq %r11, <offset:1>+0x170(%rsp)
  movl $0x7, %r12d
  cmpq $0x7, %r12
  jb      label29; j label28
block28:
  jmp     label30
block30:
  movdqu <offset:1>+0x160(%rsp), %xmm1
  movq <offset:1>+0x158(%rsp), %r14
  vmovss 0x1c(%r14), %xmm12
  vinsertps $0x30, %xmm12, %xmm1, %xmm14
  movdqu %xmm14, <offset:1>+0x140(%rsp)
  movl $0x1, %r15d
  movq %r15, <offset:1>+0x150(%rsp)
  movl $0x1, %eax
  cmpq $0x1, %rax
  jb      label32; j label31
block31:
  jmp     label33
block33:
  movdqu <offset:1>+0x140(%rsp), %xmm13
  movdqu <offset:1>+0x130(%rsp), %xmm6
  movq <offset:1>+0x128(%rsp), %r8
  vmovss 4(%r8), %xmm10
  vbroadcastss %xmm10, %xmm15
  vfmadd213ps %xmm6, %xmm13, %xmm15
  movdqu %xmm15, <offset:1>+0x110(%rsp)
  vbroadcastss (%rip), %xmm4
  movdqu %xmm4, <offset:1>+0xb0(%rsp)
  uninit  %r9
  xorq %r9, %r9
  movq %r9, <offset:1>+0x120(%rsp)
  uninit  %r10
  xorq %r10, %r10
  testq %r10, %r10
  jb      label35; j label34
block34:
  jmp     label36
block36:
  movdqu <offset:1>+0x110(%rsp), %xmm2
  movq <offset:1>+0x100(%rsp), %r12
  vmovss (%r12), %xmm0
  vbroadcastss %xmm0, %xmm7
  vaddps %xmm7, %xmm2, %xmm3
  uninit  %xmm8
  vpcmpeqd %xmm8, %xmm8, %xmm11
  vpslld $0x1f, %xmm11, %xmm5
  vxorps %xmm5, %xmm3, %xmm9
  movdqu %xmm9, <offset:1>+0xc0(%rsp)
  vbroadcastss (%rip), %xmm12
  vbroadcastss (%rip), %xmm1
  movdqu <offset:1>+0xc0(%rsp), %xmm14
  vcmpltps %xmm12, %xmm14, %xmm10
  movdqu %xmm10, <offset:1>+0xe0(%rsp)
  movdqu <offset:1>+0xc0(%rsp), %xmm6
  vcmpltps %xmm6, %xmm1, %xmm13
  movdqu %xmm13, <offset:1>+0xd0(%rsp)
  movdqu <offset:1>+0xc0(%rsp), %xmm15
  vmaxps %xmm15, %xmm12, %xmm4
  movdqu <offset:1>+0xd0(%rsp), %xmm0
  vpblendvb %xmm0, %xmm1, %xmm4, %xmm7
  vbroadcastss (%rip), %xmm2
  vbroadcastss (%rip), %xmm8
  movdqa %xmm7, %xmm11
  vfmadd213ps %xmm8, %xmm2, %xmm11
  movdqu %xmm11, <offset:1>+0xf0(%rsp)
  movdqu <offset:1>+0xf0(%rsp), %xmm5
  vsubps %xmm8, %xmm5, %xmm3
  vbroadcastss (%rip), %xmm9
  vbroadcastss (%rip), %xmm14
  movdqa %xmm3, %xmm10
  vfmadd213ps %xmm7, %xmm9, %xmm10
  movdqu <offset:1>+0xf0(%rsp), %xmm7
  vfmadd213ps %xmm10, %xmm14, %xmm3
  vbroadcastss (%rip), %xmm6
  vbroadcastss (%rip), %xmm13
  vfmadd213ps %xmm13, %xmm3, %xmm6
  vbroadcastss (%rip), %xmm15
  vfmadd213ps %xmm15, %xmm3, %xmm6
  vbroadcastss (%rip), %xmm12
  vfmadd213ps %xmm12, %xmm3, %xmm6
  movdqu <offset:1>+0xe0(%rsp), %xmm12
  vbroadcastss (%rip), %xmm0
  vfmadd213ps %xmm0, %xmm3, %xmm6
  vbroadcastss (%rip), %xmm1
  vfmadd213ps %xmm1, %xmm3, %xmm6
  movdqu <offset:1>+0xd0(%rsp), %xmm1
  vmulps %xmm3, %xmm3, %xmm4
  vfmadd213ps %xmm3, %xmm4, %xmm6
  movdqu <offset:1>+0xc0(%rsp), %xmm4
  vbroadcastss (%rip), %xmm2
  vaddps %xmm2, %xmm6, %xmm11
  movl $0x4b400000, %r13d
  vmovd %r13d, %xmm8
  vpbroadcastd %xmm8, %xmm5
  movdqu <offset:1>+0xb0(%rsp), %xmm8
  vpsubd %xmm5, %xmm7, %xmm9
  vpslld $0x17, %xmm9, %xmm10
  vpaddd %xmm10, %xmm11, %xmm14
  vbroadcastss (%rip), %xmm13
  vbroadcastss (%rip), %xmm15
  vpblendvb %xmm12, %xmm13, %xmm14, %xmm0
  vpblendvb %xmm1, %xmm15, %xmm0, %xmm3
  vcmpneqps %xmm4, %xmm4, %xmm2
  vpblendvb %xmm2, %xmm4, %xmm3, %xmm6
  vaddps %xmm8, %xmm6, %xmm5
  vdivps %xmm5, %xmm8, %xmm7
  movdqu %xmm7, <offset:1>+0x50(%rsp)
  uninit  %r14
  xorq %r14, %r14
  movq %r14, <offset:1>+0xa0(%rsp)
  uninit  %r15
  xorq %r15, %r15
  testq %r15, %r15
  jb      label38; j label37
block37:
  jmp     label39
block39:
  movq <offset:1>+0x98(%rsp), %rbx
  vmovups (%rbx), %xmm9
  movdqu <offset:1>+0x50(%rsp), %xmm10
  vsubps %xmm9, %xmm10, %xmm11
  vmulps %xmm11, %xmm11, %xmm12
  movdqu %xmm12, <offset:1>+0x70(%rsp)
  uninit  %r8
  xorq %r8, %r8
  movq %r8, <offset:1>+0x90(%rsp)
  uninit  %r9
  xorq %r9, %r9
  testq %r9, %r9
  jb      label41; j label40
block40:
  jmp     label42
block42:
  movdqu <offset:1>+0x80(%rsp), %xmm1
  movdqu <offset:1>+0x70(%rsp), %xmm14
  movq <offset:1>+0x60(%rsp), %r11
  movdqu <offset:1>+0x50(%rsp), %xmm13
  vmovups %xmm13, (%r11)
  vaddps %xmm14, %xmm1, %xmm15
  vaddps %xmm1, %xmm15, %xmm0
  vaddps %xmm1, %xmm0, %xmm2
  vaddps %xmm1, %xmm2, %xmm4
  vpshufd $0x1, %xmm4, %xmm3
  vpshufd $0x2, %xmm4, %xmm6
  vpshufd $0x3, %xmm4, %xmm5
  vaddss %xmm3, %xmm4, %xmm8
  vaddss %xmm5, %xmm6, %xmm7
  vaddss %xmm7, %xmm8, %xmm9
  vaddss (%rip), %xmm9, %xmm10
  movdqu %xmm10, <offset:1>+0x30(%rsp)
  uninit  %r12
  xorq %r12, %r12
  movq %r12, <offset:1>+0x40(%rsp)
  uninit  %r13
  xorq %r13, %r13
  testq %r13, %r13
  jb      label44; j label43
block43:
  jmp     label45
block45:
  movdqu <offset:1>+0x30(%rsp), %xmm11
  movq <offset:1>+0x20(%rsp), %r15
  vaddss (%r15), %xmm11, %xmm12
  movq <offset:1>+0x20(%rsp), %rax
  vmovss %xmm12, (%rax)
  uninit  %rbx
  xorq %rbx, %rbx
  movq %rbx, <offset:1>+0x28(%rsp)
  uninit  %r8
  xorq %r8, %r8
  testq %r8, %r8
  jb      label47; j label46
block46:
  jmp     label48
block48:
  movq <offset:1>+0x20(%rsp), %r11
  movl $0x3e800000, %r10d
  vmovd %r10d, %xmm13
  vmulss (%r11), %xmm13, %xmm14
  movdqu %xmm14, <offset:1>+(%rsp)
  uninit  %r12
  xorq %r12, %r12
  movq %r12, <offset:1>+0x18(%rsp)
  uninit  %r13
  xorq %r13, %r13
  testq %r13, %r13
  jb      label50; j label49
block49:
  jmp     label51
block51:
  movq <offset:1>+0x10(%rsp), %r15
  movdqu <offset:1>+(%rsp), %xmm15
  vmovss %xmm15, (%r15)
  movq 0x280(%rsp), %rbx
  movq 0x288(%rsp), %r12
  movq 0x290(%rsp), %r13
  movq 0x298(%rsp), %r14
  movq 0x2a0(%rsp), %r15
  addq $0x2b0, %rsp
  movq %rbp, %rsp
  popq %rbp
  retq
block2:
  movq <offset:1>+0x270(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x6, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %rbx
  call    *%rbx
  jmp     label3
block5:
  movq <offset:1>+0x258(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r11
  movq %rdi, %rsi
  call    *%r11
  jmp     label6
block8:
  movq <offset:1>+0x250(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r15
  movq %rdi, %rsi
  call    *%r15
  jmp     label9
block11:
  movq <offset:1>+0x230(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r9
  movq %rdi, %rsi
  call    *%r9
  jmp     label12
block14:
  movq <offset:1>+0x210(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r13
  movq %rdi, %rsi
  call    *%r13
  jmp     label15
block17:
  movq <offset:1>+0x1f0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x2, %esi
  load_ext_name userextname1+0, %rbx
  movq %rsi, %rcx
  call    *%rbx
  jmp     label18
block20:
  movq <offset:1>+0x1d0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r11
  movq %rdi, %rsi
  call    *%r11
  jmp     label21
block23:
  movq <offset:1>+0x1b0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r15
  movq %rdi, %rsi
  call    *%r15
  jmp     label24
block26:
  movq <offset:1>+0x190(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r9
  movq %rdi, %rsi
  call    *%r9
  jmp     label27
block29:
  movq <offset:1>+0x170(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r13
  movq %rdi, %rsi
  call    *%r13
  jmp     label30
block32:
  movq <offset:1>+0x150(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x2, %esi
  load_ext_name userextname1+0, %rbx
  movq %rsi, %rcx
  call    *%rbx
  jmp     label33
block35:
  movq <offset:1>+0x120(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x3, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %r11
  call    *%r11
  jmp     label36
block38:
  movq <offset:1>+0xa0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x1, %esi
  movl $0x4, %ecx
  load_ext_name userextname1+0, %rax
  call    *%rax
  jmp     label39
block41:
  movq <offset:1>+0x90(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x4, %esi
  load_ext_name userextname1+0, %r10
  movq %rsi, %rcx
  call    *%r10
  jmp     label42
block44:
  movq <offset:1>+0x40(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x6, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %r14
  call    *%r14
  jmp     label45
block47:
  movq <offset:1>+0x28(%rsp), %rdx
  movl $0x1, %edi
  movl $0x6, %esi
  load_ext_name userextname1+0, %r9
  movq %rdi, %rcx
  call    *%r9
  jmp     label48
block50:
  movq <offset:1>+0x18(%rsp), %rdx
  movl $0x1, %edi
  movl $0x5, %esi
  load_ext_name userextname1+0, %r14
  movq %rdi, %rcx
  call    *%r14
  jmp     label51

