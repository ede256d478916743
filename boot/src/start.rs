//! The multiboot header and the 32-bit entry: from protected mode without paging
//! (how a multiboot loader leaves the CPU) to long mode on boot page tables, then
//! into [`crate::kernel_main`] on the kernel stack.
//!
//! The boot tables map the first 4 GiB of physical memory three times, with 2 MiB
//! entries: identity (so this code keeps running when paging turns on), at
//! `KERNEL_BASE` (the direct map the HAL reaches physical memory through), and the
//! first 2 GiB at `0xffff_ffff_8000_0000` (where the kernel is linked). The kernel
//! replaces them with tables of its own as soon as it has a frame allocator.

core::arch::global_asm!(
    r#"
    .section .multiboot, "a"
    .align 4
mb_header:
    .long 0x1BADB002
    .long 0x00010002
    .long -(0x1BADB002 + 0x00010002)
    .long mb_header
    .long 0x100000
    .long 0
    .long _bss_end_phys
    .long start32

    .section .boot.data, "aw"
    .align 4096
    .global boot_pml4
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4 * 4096
boot_stack:     .skip 4096
boot_stack_top:
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
boot_gdt_ptr:
    .word 23
    .long boot_gdt

    .section .boot.text, "ax"
    .code32
    .global start32
start32:
    cli
    mov esi, ebx
    mov esp, offset boot_stack_top

    mov edi, offset _bss_start_phys
    mov ecx, offset _bss_end_phys
    sub ecx, edi
    xor eax, eax
    cld
    rep stosb

    mov edi, offset boot_pd
    xor eax, eax
    mov ecx, 2048
.Lfill_pd:
    mov edx, eax
    or edx, 0x83
    mov [edi], edx
    mov dword ptr [edi + 4], 0
    add eax, 0x200000
    add edi, 8
    dec ecx
    jnz .Lfill_pd

    mov eax, offset boot_pd
    or eax, 3
    mov [boot_pdpt_low], eax
    mov [boot_pdpt_high + 510 * 8], eax
    add eax, 4096
    mov [boot_pdpt_low + 8], eax
    mov [boot_pdpt_high + 511 * 8], eax
    add eax, 4096
    mov [boot_pdpt_low + 16], eax
    add eax, 4096
    mov [boot_pdpt_low + 24], eax

    mov eax, offset boot_pdpt_low
    or eax, 3
    mov [boot_pml4], eax
    mov [boot_pml4 + 256 * 8], eax
    mov eax, offset boot_pdpt_high
    or eax, 3
    mov [boot_pml4 + 511 * 8], eax

    mov eax, offset boot_pml4
    mov cr3, eax
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov ecx, 0xC0000080
    rdmsr
    or eax, 0x101
    wrmsr
    mov eax, cr0
    or eax, 0x80010001
    mov cr0, eax

    lgdt [boot_gdt_ptr]
    mov eax, offset start64
    push 0x08
    push eax
    retf

    .code64
start64:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    movabs rsp, offset boot_kernel_stack_top
    mov edi, esi
    movabs rax, offset {main}
    call rax
    ud2

    .section .bss.boot_kernel_stack, "aw", @nobits
    .align 16
    .global boot_kernel_stack_top
boot_kernel_stack:
    .skip 65536
boot_kernel_stack_top:
    "#,
    main = sym crate::kernel_main,
);
