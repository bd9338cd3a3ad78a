; train.0.step (1264 bytes)
  pushq %rbp
  unwind PushFrameRegs { offset_upward_to_caller_sp: 16 }
  movq %rsp, %rbp
  unwind DefineNewFrame { offset_upward_to_caller_sp: 16, offset_downward_to_clobbers: 0 }
  subq $0x10, %rsp
block0:
  movq (%rdi), %r10
  movq 8(%rdi), %r9
  movq 0x10(%rdi), %rax
  movq 0x18(%rdi), %rsi
  movq 0x20(%rdi), %rax
  movq 0x28(%rdi), %rcx
  movq 0x30(%rdi), %r8
  movq (%rax), %rdi
  movq 8(%rax), %rax
  jmp     label1
block1:
  uninit  %xmm0
  vxorps %xmm0, %xmm0, %xmm0
  vmovss %xmm0, 0x40(%rcx)
  jmp     label2
block2:
  uninit  %xmm0
  vxorps %xmm0, %xmm0, %xmm0
  vmovss %xmm0, 0x80(%rcx)
  jmp     label3
block3:
  uninit  %xmm0
  vxorps %xmm0, %xmm0, %xmm0
  vmovss %xmm0, (%rcx)
  jmp     label4
block4:
  uninit  %xmm0
  vxorps %xmm0, %xmm0, %xmm0
  vmovss %xmm0, 4(%rcx)
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
  vmovss (%rdi), %xmm2
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
  vmovss 4(%rdi), %xmm6
  jmp     label15
block15:
  vmovss (%rax), %xmm5
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
  vmovss 0x40(%rcx), %xmm3
  uninit  %xmm0
  vxorps %xmm0, %xmm0, %xmm0
  vmovups (%rip), %xmm4
  vbroadcastss %xmm6, %xmm6
  vmovss 4(%r10), %xmm1
  vinsertps $0x0, %xmm1, %xmm0, %xmm1
  vmovss 0xc(%r10), %xmm7
  vinsertps $0x10, %xmm7, %xmm1, %xmm1
  vmovss 0x14(%r10), %xmm7
  vinsertps $0x20, %xmm7, %xmm1, %xmm1
  vmovss 0x1c(%r10), %xmm7
  vinsertps $0x30, %xmm7, %xmm1, %xmm1
  movdqu %xmm1, <offset:1>+(%rsp)
  vbroadcastss %xmm2, %xmm7
  vmovss (%r10), %xmm1
  vinsertps $0x0, %xmm1, %xmm0, %xmm2
  vmovss 8(%r10), %xmm1
  vinsertps $0x10, %xmm1, %xmm2, %xmm2
  vmovss 0x10(%r10), %xmm1
  vinsertps $0x20, %xmm1, %xmm2, %xmm2
  vmovss 0x18(%r10), %xmm1
  vinsertps $0x30, %xmm1, %xmm2, %xmm2
  vfmadd213ps %xmm0, %xmm2, %xmm7
  movdqu <offset:1>+(%rsp), %xmm1
  vfmadd213ps %xmm7, %xmm1, %xmm6
  vbroadcastss %xmm5, %xmm1
  vaddps %xmm1, %xmm6, %xmm5
  uninit  %xmm1
  vpcmpeqd %xmm1, %xmm1, %xmm1
  vpslld $0x1f, %xmm1, %xmm1
  vxorps %xmm1, %xmm5, %xmm5
  vcmpneqps %xmm5, %xmm5, %xmm6
  vmovups (%rip), %xmm9
  vcmpltps %xmm5, %xmm9, %xmm7
  vmovups (%rip), %xmm14
  vmovups (%rip), %xmm10
  vcmpltps %xmm10, %xmm5, %xmm15
  vmovups (%rip), %xmm8
  vmaxps %xmm5, %xmm10, %xmm1
  vpblendvb %xmm7, %xmm9, %xmm1, %xmm11
  vmovups (%rip), %xmm10
  vmovups (%rip), %xmm12
  movdqa %xmm11, %xmm9
  vfmadd213ps %xmm12, %xmm10, %xmm9
  vsubps %xmm12, %xmm9, %xmm10
  vmovups (%rip), %xmm12
  vmovups (%rip), %xmm13
  movdqa %xmm10, %xmm1
  vfmadd213ps %xmm11, %xmm13, %xmm1
  vfmadd213ps %xmm1, %xmm12, %xmm10
  vmovups (%rip), %xmm1
  vfmadd213ps %xmm1, %xmm10, %xmm8
  vmovups (%rip), %xmm1
  vfmadd213ps %xmm1, %xmm10, %xmm8
  vmovups (%rip), %xmm1
  vfmadd213ps %xmm1, %xmm10, %xmm8
  vmovups (%rip), %xmm1
  vfmadd213ps %xmm1, %xmm10, %xmm8
  vmovups (%rip), %xmm1
  vfmadd213ps %xmm1, %xmm10, %xmm8
  vmulps %xmm10, %xmm10, %xmm1
  vfmadd213ps %xmm10, %xmm1, %xmm8
  vaddps %xmm4, %xmm8, %xmm8
  vmovdqu (%rip), %xmm1
  vpsubd %xmm1, %xmm9, %xmm1
  vpslld $0x17, %xmm1, %xmm1
  vpaddd %xmm1, %xmm8, %xmm1
  vpblendvb %xmm15, %xmm0, %xmm1, %xmm1
  vpblendvb %xmm7, %xmm14, %xmm1, %xmm1
  vpblendvb %xmm6, %xmm5, %xmm1, %xmm5
  vaddps %xmm4, %xmm5, %xmm6
  vdivps %xmm6, %xmm4, %xmm4
  vmovups (%r9), %xmm1
  vsubps %xmm1, %xmm4, %xmm7
  vmulps %xmm7, %xmm7, %xmm1
  vaddps %xmm1, %xmm0, %xmm1
  vaddps %xmm0, %xmm1, %xmm1
  vaddps %xmm0, %xmm1, %xmm1
  vaddps %xmm0, %xmm1, %xmm14
  vpshufd $0x1, %xmm14, %xmm1
  vaddss %xmm1, %xmm14, %xmm15
  vpshufd $0x2, %xmm14, %xmm1
  vpshufd $0x3, %xmm14, %xmm14
  vaddss %xmm14, %xmm1, %xmm1
  vaddss %xmm1, %xmm15, %xmm1
  vaddss (%rip), %xmm1, %xmm1
  vaddss %xmm1, %xmm3, %xmm1
  vmovss %xmm1, 0x40(%rcx)
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
  vaddss 0x80(%rcx), %xmm1, %xmm1
  vmovss %xmm1, 0x80(%rcx)
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
  vaddss (%rcx), %xmm1, %xmm1
  vmovss %xmm1, (%rcx)
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
  vaddss 4(%rcx), %xmm0, %xmm0
  vmovss %xmm0, 4(%rcx)
  jmp     label29
block29:
  vmovss 0x40(%rcx), %xmm0
  jmp     label30
block30:
  vmulss (%rip), %xmm0, %xmm0
  vmovss %xmm0, (%r8)
  jmp     label31
block31:
  vmovss (%rsi, %rdx, 4), %xmm0
  jmp     label32
block32:
  vmovss (%rdi), %xmm1
  jmp     label33
block33:
  vmovss (%rcx), %xmm2
  jmp     label34
block34:
  vmulss %xmm0, %xmm2, %xmm2
  vsubss %xmm2, %xmm1, %xmm1
  vmovss %xmm1, (%rdi)
  jmp     label35
block35:
  vmovss 4(%rdi), %xmm1
  jmp     label36
block36:
  vmovss 4(%rcx), %xmm2
  jmp     label37
block37:
  vmulss %xmm0, %xmm2, %xmm0
  vsubss %xmm0, %xmm1, %xmm0
  vmovss %xmm0, 4(%rdi)
  jmp     label38
block38:
  vmovss (%rsi, %rdx, 4), %xmm0
  jmp     label39
block39:
  vmovss (%rax), %xmm1
  jmp     label40
block40:
  vmovss 0x80(%rcx), %xmm2
  jmp     label41
block41:
  vmulss %xmm0, %xmm2, %xmm0
  vsubss %xmm0, %xmm1, %xmm0
  vmovss %xmm0, (%rax)
  addq $0x10, %rsp
  movq %rbp, %rsp
  popq %rbp
  retq

; train.0 (480 bytes)
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
  movq %rdi, <offset:1>+0x58(%rsp)
  movq <offset:1>+0x58(%rsp), %rdx
  movq 0x30(%rdx), %rsi
  movq %rsi, <offset:1>+0x48(%rsp)
  movq <offset:1>+0x58(%rsp), %rcx
  movq 0x38(%rcx), %rdi
  movq %rdi, <offset:1>+0x68(%rsp)
  movq <offset:1>+0x58(%rsp), %rbx
  movq 0x40(%rbx), %r8
  movq %r8, <offset:1>+0x38(%rsp)
  movq <offset:1>+0x58(%rsp), %r10
  movq 0x48(%r10), %r9
  movq %r9, <offset:1>+0x30(%rsp)
  movq <offset:1>+0x58(%rsp), %r11
  movq 0x50(%r11), %rax
  movq %rax, <offset:1>+0x50(%rsp)
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
  movq <offset:1>+0x58(%rsp), %rdi
  uninit  %rdx
  xorq %rdx, %rdx
  imulq $0x0, (%rip), %rsi
  load_ext_name userextname2+0, %rcx
  call    *%rcx
  movq <offset:1>+0x50(%rsp), %r8
  movq <offset:1>+0x48(%rsp), %rdx
  vmovss (%rdx), %xmm12
  uninit  %xmm11
  vxorpd %xmm11, %xmm11, %xmm13
  vcvtss2sd %xmm12, %xmm13, %xmm15
  movabsq $0x4010000000000000, %rbx
  vmovq %rbx, %xmm14
  vfmadd213sd (%rip), %xmm14, %xmm15
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

; eval.train.2 (2944 bytes)
  pushq %rbp
  unwind PushFrameRegs { offset_upward_to_caller_sp: 16 }
  movq %rsp, %rbp
  unwind DefineNewFrame { offset_upward_to_caller_sp: 16, offset_downward_to_clobbers: 48 }
  subq $0x310, %rsp
  movq %rbx, 0x2e0(%rsp)
  unwind SaveReg { clobber_offset: 0, reg: p3i }
  movq %r12, 0x2e8(%rsp)
  unwind SaveReg { clobber_offset: 8, reg: p12i }
  movq %r13, 0x2f0(%rsp)
  unwind SaveReg { clobber_offset: 16, reg: p13i }
  movq %r14, 0x2f8(%rsp)
  unwind SaveReg { clobber_offset: 24, reg: p14i }
  movq %r15, 0x300(%rsp)
  unwind SaveReg { clobber_offset: 32, reg: p15i }
block0:
  movq %rdi, %r13
  movq 0x30(%r13), %rdx
  movq %rdx, <offset:1>+0x20(%rsp)
  movq (%r13), %r8
  movq %r8, <offset:1>+0x188(%rsp)
  movq 8(%r13), %r9
  movq %r9, <offset:1>+0xc8(%rsp)
  movq 0x10(%r13), %r10
  movq %r10, <offset:1>+0x158(%rsp)
  movq 0x18(%r13), %r11
  movq %r11, <offset:1>+0x130(%rsp)
  movq 0x20(%r13), %r12
  movq %r12, <offset:1>+0x60(%rsp)
  movq 0x28(%r13), %r14
  movq %r14, <offset:1>+0x10(%rsp)
  uninit  %xmm7
  vxorps %xmm7, %xmm7, %xmm4
  movdqu %xmm4, <offset:1>+0x2c0(%rsp)
  uninit  %r15
  xorq %r15, %r15
  movq %r15, <offset:1>+0x2d0(%rsp)
  uninit  %rax
  xorq %rax, %rax
  testq %rax, %rax
  jb      label2; j label1
block1:
  jmp     label3
block3:
  movdqu <offset:1>+0x2c0(%rsp), %xmm5
  movq <offset:1>+0x20(%rsp), %r8
  vmovss %xmm5, (%r8)
  vbroadcastss (%rip), %xmm9
  movdqu %xmm9, <offset:1>+0x80(%rsp)
  vbroadcastss (%rip), %xmm12
  movdqu %xmm12, <offset:1>+0x90(%rsp)
  vbroadcastss (%rip), %xmm11
  movdqu %xmm11, <offset:1>+0xa0(%rsp)
  vbroadcastss (%rip), %xmm1
  movdqu %xmm1, <offset:1>+0xb0(%rsp)
  vbroadcastss (%rip), %xmm8
  movdqu %xmm8, <offset:1>+0x210(%rsp)
  vbroadcastss (%rip), %xmm14
  movdqu %xmm14, <offset:1>+0x2a0(%rsp)
  uninit  %r9
  xorq %r9, %r9
  movq %r9, <offset:1>+0x2b0(%rsp)
  movl $0x7, %r10d
  testq %r10, %r10
  jb      label5; j label4
block4:
  jmp     label6
block6:
  movdqu <offset:1>+0x2a0(%rsp), %xmm15
  movq <offset:1>+0x188(%rsp), %r12
  vmovss (%r12), %xmm10
  vinsertps $0x0, %xmm10, %xmm15, %xmm13
  movdqu %xmm13, <offset:1>+0x280(%rsp)
  movl $0x2, %r13d
  movq %r13, <offset:1>+0x290(%rsp)
  movl $0x7, %r14d
  cmpq $0x2, %r14
  jb      label8; j label7
block7:
  jmp     label9
block9:
  movdqu <offset:1>+0x280(%rsp), %xmm0
  movq <offset:1>+0x188(%rsp), %rax
  vmovss 8(%rax), %xmm6
  vinsertps $0x10, %xmm6, %xmm0, %xmm2
  movdqu %xmm2, <offset:1>+0x260(%rsp)
  movl $0x4, %ebx
  movq %rbx, <offset:1>+0x270(%rsp)
  movl $0x7, %r8d
  cmpq $0x4, %r8
  jb      label11; j label10
block10:
  jmp     label12
block12:
  movdqu <offset:1>+0x260(%rsp), %xmm7
  movq <offset:1>+0x188(%rsp), %r10
  vmovss 0x10(%r10), %xmm3
  vinsertps $0x20, %xmm3, %xmm7, %xmm4
  movdqu %xmm4, <offset:1>+0x240(%rsp)
  movl $0x6, %r11d
  movq %r11, <offset:1>+0x250(%rsp)
  movl $0x7, %r12d
  cmpq $0x6, %r12
  jb      label14; j label13
block13:
  jmp     label15
block15:
  movdqu <offset:1>+0x240(%rsp), %xmm9
  movq <offset:1>+0x188(%rsp), %r14
  vmovss 0x18(%r14), %xmm5
  vinsertps $0x30, %xmm5, %xmm9, %xmm12
  movdqu %xmm12, <offset:1>+0x220(%rsp)
  uninit  %r15
  xorq %r15, %r15
  movq %r15, <offset:1>+0x230(%rsp)
  movl $0x1, %eax
  testq %rax, %rax
  jb      label17; j label16
block16:
  jmp     label18
block18:
  movdqu <offset:1>+0x220(%rsp), %xmm14
  movdqu <offset:1>+0x210(%rsp), %xmm8
  movq <offset:1>+0x158(%rsp), %r8
  vmovss (%r8), %xmm11
  vbroadcastss %xmm11, %xmm1
  vfmadd213ps %xmm8, %xmm14, %xmm1
  movdqu %xmm1, <offset:1>+0x160(%rsp)
  vbroadcastss (%rip), %xmm10
  movdqu %xmm10, <offset:1>+0x1f0(%rsp)
  movl $0x1, %r9d
  movq %r9, <offset:1>+0x200(%rsp)
  movl $0x7, %r10d
  cmpq $0x1, %r10
  jb      label20; j label19
block19:
  jmp     label21
block21:
  movdqu <offset:1>+0x1f0(%rsp), %xmm13
  movq <offset:1>+0x188(%rsp), %r12
  vmovss 4(%r12), %xmm15
  vinsertps $0x0, %xmm15, %xmm13, %xmm6
  movdqu %xmm6, <offset:1>+0x1d0(%rsp)
  movl $0x3, %r13d
  movq %r13, <offset:1>+0x1e0(%rsp)
  movl $0x7, %r14d
  cmpq $0x3, %r14
  jb      label23; j label22
block22:
  jmp     label24
block24:
  movdqu <offset:1>+0x1d0(%rsp), %xmm2
  movq <offset:1>+0x188(%rsp), %rax
  vmovss 0xc(%rax), %xmm0
  vinsertps $0x10, %xmm0, %xmm2, %xmm3
  movdqu %xmm3, <offset:1>+0x1b0(%rsp)
  movl $0x5, %ebx
  movq %rbx, <offset:1>+0x1c0(%rsp)
  movl $0x7, %r8d
  cmpq $0x5, %r8
  jb      label26; j label25
block25:
  jmp     label27
block27:
  movdqu <offset:1>+0x1b0(%rsp), %xmm4
  movq <offset:1>+0x188(%rsp), %r10
  vmovss 0x14(%r10), %xmm7
  vinsertps $0x20, %xmm7, %xmm4, %xmm5
  movdqu %xmm5, <offset:1>+0x190(%rsp)
  movl $0x7, %r11d
  movq %r11, <offset:1>+0x1a0(%rsp)
  movl $0x7, %r12d
  cmpq $0x7, %r12
  jb      label29; j label28
block28:
  jmp     label30
block30:
  movdqu <offset:1>+0x190(%rsp), %xmm12
  movq <offset:1>+0x188(%rsp), %r14
  vmovss 0x1c(%r14), %xmm9
  vinsertps $0x30, %xmm9, %xmm12, %xmm11
  movdqu %xmm11, <offset:1>+0x170(%rsp)
  movl $0x1, %r15d
  movq %r15, <offset:1>+0x180(%rsp)
  movl $0x1, %eax
  cmpq $0x1, %rax
  jb      label32; j label31
block31:
  jmp     label33
block33:
  movdqu <offset:1>+0x170(%rsp), %xmm10
  movdqu <offset:1>+0x160(%rsp), %xmm1
  movq <offset:1>+0x158(%rsp), %r8
  vmovss 4(%r8), %xmm8
  vbroadcastss %xmm8, %xmm14
  vfmadd213ps %xmm1, %xmm10, %xmm14
  movdqu %xmm14, <offset:1>+0x140(%rsp)
  vbroadcastss (%rip), %xmm15
  movdqu %xmm15, <offset:1>+0xe0(%rsp)
  uninit  %r9
  xorq %r9, %r9
  movq %r9, <offset:1>+0x150(%rsp)
  uninit  %r10
  xorq %r10, %r10
  testq %r10, %r10
  jb      label35; j label34
block34:
  jmp     label36
block36:
  movdqu <offset:1>+0x140(%rsp), %xmm0
  movq <offset:1>+0x130(%rsp), %r12
  vmovss (%r12), %xmm13
  vbroadcastss %xmm13, %xmm6
  vaddps %xmm6, %xmm0, %xmm2
  uninit  %xmm3
  vpcmpeqd %xmm3, %xmm3, %xmm7
  vpslld $0x1f, %xmm7, %xmm4
  vxorps %xmm4, %xmm2, %xmm5
  movdqu %xmm5, <offset:1>+0xf0(%rsp)
  vbroadcastss (%rip), %xmm9
  vbroadcastss (%rip), %xmm12
  movdqu <offset:1>+0xf0(%rsp), %xmm11
  vcmpltps %xmm9, %xmm11, %xmm8
  movdqu %xmm8, <offset:1>+0x110(%rsp)
  movdqu <offset:1>+0xf0(%rsp), %xmm1
  vcmpltps %xmm1, %xmm12, %xmm10
  movdqu %xmm10, <offset:1>+0x100(%rsp)
  movdqu <offset:1>+0xf0(%rsp), %xmm14
  vmaxps %xmm14, %xmm9, %xmm15
  movdqu <offset:1>+0x100(%rsp), %xmm13
  vpblendvb %xmm13, %xmm12, %xmm15, %xmm6
  vbroadcastss (%rip), %xmm0
  vbroadcastss (%rip), %xmm3
  movdqa %xmm6, %xmm7
  vfmadd213ps %xmm3, %xmm0, %xmm7
  movdqu %xmm7, <offset:1>+0x120(%rsp)
  movdqu <offset:1>+0x120(%rsp), %xmm4
  vsubps %xmm3, %xmm4, %xmm2
  vbroadcastss (%rip), %xmm5
  vbroadcastss (%rip), %xmm11
  movdqa %xmm2, %xmm8
  vfmadd213ps %xmm6, %xmm5, %xmm8
  movdqu <offset:1>+0x120(%rsp), %xmm6
  vfmadd213ps %xmm8, %xmm11, %xmm2
  vbroadcastss (%rip), %xmm1
  vbroadcastss (%rip), %xmm10
  vfmadd213ps %xmm10, %xmm2, %xmm1
  vbroadcastss (%rip), %xmm14
  vfmadd213ps %xmm14, %xmm2, %xmm1
  vbroadcastss (%rip), %xmm9
  vfmadd213ps %xmm9, %xmm2, %xmm1
  movdqu <offset:1>+0x110(%rsp), %xmm9
  vbroadcastss (%rip), %xmm13
  vfmadd213ps %xmm13, %xmm2, %xmm1
  vbroadcastss (%rip), %xmm12
  vfmadd213ps %xmm12, %xmm2, %xmm1
  movdqu <offset:1>+0x100(%rsp), %xmm12
  vmulps %xmm2, %xmm2, %xmm15
  vfmadd213ps %xmm2, %xmm15, %xmm1
  movdqu <offset:1>+0xf0(%rsp), %xmm15
  vbroadcastss (%rip), %xmm0
  vaddps %xmm0, %xmm1, %xmm7
  movl $0x4b400000, %r13d
  vmovd %r13d, %xmm3
  vpbroadcastd %xmm3, %xmm4
  movdqu <offset:1>+0xe0(%rsp), %xmm3
  vpsubd %xmm4, %xmm6, %xmm5
  vpslld $0x17, %xmm5, %xmm8
  vpaddd %xmm8, %xmm7, %xmm11
  vbroadcastss (%rip), %xmm10
  vbroadcastss (%rip), %xmm14
  vpblendvb %xmm9, %xmm10, %xmm11, %xmm13
  vpblendvb %xmm12, %xmm14, %xmm13, %xmm2
  vcmpneqps %xmm15, %xmm15, %xmm0
  vpblendvb %xmm0, %xmm15, %xmm2, %xmm1
  vaddps %xmm3, %xmm1, %xmm4
  vdivps %xmm4, %xmm3, %xmm6
  movdqu %xmm6, <offset:1>+0x50(%rsp)
  uninit  %r14
  xorq %r14, %r14
  movq %r14, <offset:1>+0xd0(%rsp)
  uninit  %r15
  xorq %r15, %r15
  testq %r15, %r15
  jb      label38; j label37
block37:
  jmp     label39
block39:
  movq <offset:1>+0xc8(%rsp), %rbx
  vmovups (%rbx), %xmm5
  movdqu <offset:1>+0x50(%rsp), %xmm8
  vsubps %xmm5, %xmm8, %xmm7
  vmulps %xmm7, %xmm7, %xmm9
  movdqu %xmm9, <offset:1>+0x70(%rsp)
  uninit  %r8
  xorq %r8, %r8
  movq %r8, <offset:1>+0xc0(%rsp)
  uninit  %r9
  xorq %r9, %r9
  testq %r9, %r9
  jb      label41; j label40
block40:
  jmp     label42
block42:
  movdqu <offset:1>+0xb0(%rsp), %xmm1
  movdqu <offset:1>+0xa0(%rsp), %xmm15
  movdqu <offset:1>+0x90(%rsp), %xmm13
  movdqu <offset:1>+0x80(%rsp), %xmm12
  movdqu <offset:1>+0x70(%rsp), %xmm11
  movq <offset:1>+0x60(%rsp), %r11
  movdqu <offset:1>+0x50(%rsp), %xmm10
  vmovups %xmm10, (%r11)
  vaddps %xmm11, %xmm12, %xmm14
  vaddps %xmm13, %xmm14, %xmm0
  vaddps %xmm15, %xmm0, %xmm2
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
  movq 0x2e0(%rsp), %rbx
  movq 0x2e8(%rsp), %r12
  movq 0x2f0(%rsp), %r13
  movq 0x2f8(%rsp), %r14
  movq 0x300(%rsp), %r15
  addq $0x310, %rsp
  movq %rbp, %rsp
  popq %rbp
  retq
block2:
  movq <offset:1>+0x2d0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x6, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %rbx
  call    *%rbx
  jmp     label3
block5:
  movq <offset:1>+0x2b0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  uninit  %rsi
  xorq %rsi, %rsi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r11
  call    *%r11
  jmp     label6
block8:
  movq <offset:1>+0x290(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  uninit  %rsi
  xorq %rsi, %rsi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r15
  call    *%r15
  jmp     label9
block11:
  movq <offset:1>+0x270(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  uninit  %rsi
  xorq %rsi, %rsi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r9
  call    *%r9
  jmp     label12
block14:
  movq <offset:1>+0x250(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  uninit  %rsi
  xorq %rsi, %rsi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r13
  call    *%r13
  jmp     label15
block17:
  movq <offset:1>+0x230(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x2, %esi
  movl $0x2, %ecx
  load_ext_name userextname1+0, %rbx
  call    *%rbx
  jmp     label18
block20:
  movq <offset:1>+0x200(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  uninit  %rsi
  xorq %rsi, %rsi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r11
  call    *%r11
  jmp     label21
block23:
  movq <offset:1>+0x1e0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  uninit  %rsi
  xorq %rsi, %rsi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r15
  call    *%r15
  jmp     label24
block26:
  movq <offset:1>+0x1c0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  uninit  %rsi
  xorq %rsi, %rsi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r9
  call    *%r9
  jmp     label27
block29:
  movq <offset:1>+0x1a0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  uninit  %rsi
  xorq %rsi, %rsi
  movl $0x8, %ecx
  load_ext_name userextname1+0, %r13
  call    *%r13
  jmp     label30
block32:
  movq <offset:1>+0x180(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x2, %esi
  movl $0x2, %ecx
  load_ext_name userextname1+0, %rbx
  call    *%rbx
  jmp     label33
block35:
  movq <offset:1>+0x150(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x3, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %r11
  call    *%r11
  jmp     label36
block38:
  movq <offset:1>+0xd0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x1, %esi
  movl $0x4, %ecx
  load_ext_name userextname1+0, %rax
  call    *%rax
  jmp     label39
block41:
  movq <offset:1>+0xc0(%rsp), %rdx
  uninit  %rdi
  xorq %rdi, %rdi
  movl $0x4, %esi
  movl $0x4, %ecx
  load_ext_name userextname1+0, %r10
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
  movl $0x1, %ecx
  load_ext_name userextname1+0, %r9
  call    *%r9
  jmp     label48
block50:
  movq <offset:1>+0x18(%rsp), %rdx
  movl $0x1, %edi
  movl $0x5, %esi
  movl $0x1, %ecx
  load_ext_name userextname1+0, %r14
  call    *%r14
  jmp     label51

