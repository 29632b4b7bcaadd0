// Linux x86-64's kernel path: the entry/exit path of ./entry.ts, the fault path of
// ./fault.ts, and the bodies of the system calls GNU dd and glibc make in dd's life
// (as strace shows them; ../../workloads/dd/gnu.ts), with their real semantics and errors: ENOENT for the
// absent locale files, EBADF for a closed descriptor, EINVAL for a bad size or
// signal. Each body charges what the call does, through ./fs.ts and ./mm.ts.

import { checkFeatures } from '../hooks.js';
import type { ExecImage, Kernel, KernelPath } from '../kernel.js';
import { num, str, type SyscallArgs } from '../syscall-args.js';
import { AccessKind } from '../machine/cache.js';
import { KSTACK } from '../machine/layout.js';
import { ProcessExited, type Thread } from '../proc.js';
import { Errno, type OpenFile } from '../vfs.js';
import { VfsOps } from '../vfsops.js';
import type { MapEntry } from '../vm/vmspace.js';
import { LinuxSyscallPath } from './entry.js';
import { LinuxFaultPath } from './fault.js';
import { LinuxFiles, STAT_BYTES } from './fs.js';
import { LinuxMmOps } from './mm.js';
import {
  FUTEX_HASH_LINES,
  LINUX_GLOBALS,
  LinuxTask,
  SYSCALL_WORK_SECCOMP,
  SYSCALL_WORK_SYSCALL_AUDIT,
  SYSCALL_WORK_SYSCALL_TRACE,
  SYSCALL_WORK_SYSCALL_TRACEPOINT,
  TASK,
  TIF_NOTIFY_RESUME,
} from './task.js';

/** x86-64 system-call numbers (arch/x86/entry/syscalls/syscall_64.tbl) of the calls modelled. */
export const LINUX_X86_64_NR: Readonly<Record<string, number>> = {
  read: 0,
  write: 1,
  close: 3,
  fstat: 5,
  lseek: 8,
  mmap: 9,
  mprotect: 10,
  munmap: 11,
  brk: 12,
  rt_sigaction: 13,
  rt_sigprocmask: 14,
  rt_sigreturn: 15,
  pread64: 17,
  access: 21,
  dup2: 33,
  getpid: 39,
  execve: 59,
  getuid: 102,
  getppid: 110,
  arch_prctl: 158,
  futex: 202,
  set_tid_address: 218,
  exit_group: 231,
  openat: 257,
  newfstatat: 262,
  set_robust_list: 273,
  prlimit64: 302,
  getrandom: 318,
  rseq: 334,
};

/** The names the shared user runtime uses for the generic calls, and the Linux calls they are. */
const ALIASES: Readonly<Record<string, string>> = { sigreturn: 'rt_sigreturn', exit: 'exit_group' };

/** Where the kernel places mappings for a Linux x86-64 process (mm->mmap_base below the stack gap). */
export const LINUX_MMAP_BASE = 0x7fff_f7ff_f000;
/** mm->start_brk's offset above the end of the program's bss (arch_randomize_brk; one fixed draw). */
const BRK_OFFSET = 0x20_0000;

const SIGACTION_BYTES = 32;
const SIGSET_BYTES = 8;
const RLIMIT_BYTES = 16;
const UCONTEXT_BYTES = 832;
const SIGKILL = 9;
const SIGSTOP = 19;
const ARCH_SET_FS = 0x1002;
const FUTEX_WAKE_PRIVATE = 129;

type Body = (td: Thread, a: SyscallArgs) => number;

export class LinuxKernelPath implements KernelPath {
  readonly sys: LinuxSyscallPath;
  readonly fault: LinuxFaultPath;
  readonly mm: LinuxMmOps;
  readonly files: LinuxFiles;
  readonly vfs: VfsOps;
  private readonly tasks = new Map<Thread, LinuxTask>();
  /** Open files held by file mappings (vma->vm_file), by mapping name. */
  private readonly mappedFiles = new Map<string, OpenFile>();
  private readonly bodies: Record<string, Body>;

  constructor(private readonly k: Kernel) {
    checkFeatures('linux', k.options.features, k.profile.name);
    const task = (td: Thread) => this.task(td);
    const percpu = { hot: k.mem.global(), kstackOffset: k.mem.global(), tss: k.mem.global() };
    this.vfs = new VfsOps(k);
    this.mm = new LinuxMmOps(k, task, k.phys.alloc());
    let files: LinuxFiles | undefined;
    this.sys = new LinuxSyscallPath(k, task, percpu, { runTaskWork: (td, t) => files!.runTaskWork(td, t) });
    this.files = files = new LinuxFiles(k, task, this.vfs, (t) => this.sys.tif(t));
    this.fault = new LinuxFaultPath(k, task, this.sys, this.mm);
    const f = this.files;
    this.bodies = {
      getuid: (td) => this.loadCred(td),
      getpid: (td) => {
        td.cpu.load(this.task(td).field('tgid'));
        return td.proc.pid;
      },
      getppid: (td) => {
        td.cpu.load(this.task(td).field('tgid'));
        k.charge(td, 'call'); // rcu_dereference(current->real_parent)
        return 1;
      },
      read: (td, a) => f.read(td, a),
      pread64: (td, a) => {
        const pos = num(a, 'pos');
        if (pos < 0) throw new Errno('EINVAL');
        return f.read(td, a, pos);
      },
      write: (td, a) => f.write(td, a),
      openat: (td, a) => f.openat(td, a),
      close: (td, a) => f.close(td, num(a, 'fd')),
      dup2: (td, a) => f.dup2(td, num(a, 'oldfd'), num(a, 'newfd')),
      lseek: (td, a) => f.lseek(td, a),
      access: (td, a) => f.access(td, a),
      fstat: (td, a) => f.fstat(td, num(a, 'fd'), num(a, 'sbVa')),
      newfstatat: (td, a) => this.newfstatat(td, a),
      mmap: (td, a) => this.mmap(td, a),
      munmap: (td, a) => {
        this.mm.munmap(td, a);
        this.dropUnmappedFiles(td);
        return 0;
      },
      mprotect: (td, a) => this.mm.mprotect(td, a),
      brk: (td, a) => this.mm.brk(td, a),
      rt_sigaction: (td, a) => this.rtSigaction(td, a),
      rt_sigprocmask: (td, a) => {
        const set = num(a, 'setVa');
        if (set) k.copyin(td, td.kstack + KSTACK.copy_buf, set, SIGSET_BYTES);
        k.lockPair(td, this.task(td).signalAddr); // siglock
        k.charge(td, 'sig_op');
        const oset = num(a, 'osetVa');
        if (oset) k.copyout(td, oset, td.kstack + KSTACK.copy_buf, SIGSET_BYTES);
        return 0;
      },
      rt_sigreturn: (td, a) => {
        // restore_sigcontext from the rt_sigframe, the signal mask under siglock, the FPU state (XRSTOR).
        k.copyin(td, td.kstack + KSTACK.copy_buf, num(a, 'ucVa'), UCONTEXT_BYTES);
        k.lockPair(td, this.task(td).signalAddr);
        k.call(td, 'restore_sigcontext', 3, 'call', 6);
        return 0;
      },
      arch_prctl: (td, a) => {
        if (num(a, 'code') !== ARCH_SET_FS) throw new Errno('EINVAL');
        k.call(td, 'x86_fsbase_write_task', 1); // wrfsbase
        td.cpu.store(this.task(td).field('fsbase'));
        return 0;
      },
      set_tid_address: (td) => {
        td.cpu.store(this.task(td).field('clear_child_tid'));
        return td.proc.pid;
      },
      set_robust_list: (td, a) => {
        if (num(a, 'len') !== 24) throw new Errno('EINVAL'); // sizeof(struct robust_list_head)
        td.cpu.store(this.task(td).field('robust_list'));
        return 0;
      },
      rseq: (td, a) => {
        const t = this.task(td);
        const addr = num(a, 'addr');
        if (num(a, 'len') < 32 || addr % 32 !== 0 || t.rseq !== 0) throw new Errno('EINVAL');
        k.copyin(td, td.kstack + KSTACK.rseq_buf, addr, 32); // rseq_reset_rseq_cpu_node_id: get/put_user on the area
        t.rseq = addr;
        td.cpu.store(t.field('rseq'));
        t.flags |= TIF_NOTIFY_RESUME; // rseq_set_notify_resume(): the first update runs on the way out
        td.cpu.store(t.field('flags'));
        return 0;
      },
      prlimit64: (td, a) => {
        if (num(a, 'pid') !== 0) throw new Errno('EINVAL');
        const newVa = num(a, 'newVa');
        if (newVa) k.copyin(td, td.kstack + KSTACK.copy_buf, newVa, RLIMIT_BYTES);
        k.lockPair(td, this.task(td).signalAddr + 128); // task_lock(tsk->group_leader)
        td.cpu.load(this.task(td).signalAddr + 256); // signal->rlim[resource]
        const oldVa = num(a, 'oldVa');
        if (oldVa) k.copyout(td, oldVa, td.kstack + KSTACK.copy_buf, RLIMIT_BYTES);
        return 0;
      },
      getrandom: (td, a) => {
        const len = num(a, 'len');
        // get_random_bytes_user(): the per-CPU batched ChaCha20 key, one block per 64 bytes.
        k.enter(td, 'get_random_bytes_user', 2);
        k.charge(td, 'call', 4 + 4 * Math.ceil(len / 64));
        k.copyout(td, num(a, 'bufVa'), td.kstack + KSTACK.copy_buf, len);
        k.leave(td, 'get_random_bytes_user');
        return len;
      },
      futex: (td, a) => {
        const uaddr = num(a, 'uaddr');
        if (uaddr % 4 !== 0) throw new Errno('EINVAL');
        if (num(a, 'op') !== FUTEX_WAKE_PRIVATE) throw new Error('l41sim models only FUTEX_WAKE_PRIVATE');
        // futex_wake(): get_futex_key (private: mm and address), the hash bucket: no waiters.
        k.enter(td, 'futex_wake', 2);
        k.charge(td, 'call', 2);
        td.cpu.load(k.globals.cnt + LINUX_GLOBALS.futex_queues + (uaddr % FUTEX_HASH_LINES) * 64); // the hash bucket
        k.leave(td, 'futex_wake');
        return 0;
      },
      execve: (td, a) => this.execve(td, str(a, 'path'), num(a, 'pathVa')),
      exit_group: (td, a) => this.exitGroup(td, num(a, 'status')),
    };
  }

  /** Nothing yet: the task, and the syscall_work bits the run's hooks set, are built at the thread's first syscall or fault (task()). */
  initThread(_td: Thread): void {}

  get syscallNames(): readonly string[] {
    return Object.keys(this.bodies);
  }

  /** The Linux state of a thread, created at its first syscall or fault: its task_struct, mm and the hooks the run's features set. */
  task(td: Thread): LinuxTask {
    let t = this.tasks.get(td);
    if (t) return t;
    const k = this.k;
    t = new LinuxTask(td, k.mem.alloc('thread', TASK.size), this.mm.newMm(LINUX_MMAP_BASE), k);
    if (k.has('seccomp')) t.syscall_work |= SYSCALL_WORK_SECCOMP;
    // Enabling the raw_syscalls tracepoints (the tracepoint feature, or DTrace-style syscall
    // probes: on Linux, bpftrace's tracepoint:raw_syscalls) sets SYSCALL_WORK_SYSCALL_TRACEPOINT on every thread.
    if (k.has('tracepoint') || k.dtrace.syscallProbesEnabled) t.syscall_work |= SYSCALL_WORK_SYSCALL_TRACEPOINT;
    if (k.has('ptrace')) t.syscall_work |= SYSCALL_WORK_SYSCALL_TRACE;
    if (k.has('audit')) {
      // audit_alloc() at fork: an audit context and SYSCALL_WORK_SYSCALL_AUDIT.
      t.syscall_work |= SYSCALL_WORK_SYSCALL_AUDIT;
      t.auditContext = true;
    }
    this.tasks.set(td, t);
    this.files.inheritStdio(t);
    return t;
  }

  syscall(td: Thread, name: string, args: SyscallArgs): number {
    const call = ALIASES[name] ?? name;
    const body = this.bodies[call];
    if (!body) throw new Error(`l41sim models no '${call}' system call on Linux`);
    return this.sys.syscall(td, call, LINUX_X86_64_NR[call] ?? -1, () => body(td, args));
  }

  userFault(td: Thread, va: number, write: boolean, inKernel: boolean): void {
    // bad_area: copy_to_user/clear_user return a short count (EFAULT); user mode gets SIGSEGV.
    this.k.checkUserAccess(td, va, write, inKernel);
    this.fault.pageFault(td, va, write, inKernel);
  }

  // ---- Bodies ---------------------------------------------------------------------------

  private loadCred(td: Thread): number {
    const t = this.task(td);
    td.cpu.load(t.field('cred'));
    td.cpu.load(t.field('cred') + 64); // cred->uid
    return 0;
  }

  /** newfstatat(dirfd, path, statbuf, flags): AT_EMPTY_PATH with "" is fstat(dirfd); otherwise a lookup and stat. */
  private newfstatat(td: Thread, a: SyscallArgs): number {
    const path = str(a, 'path');
    if (path === '') return this.files.fstat(td, num(a, 'fd'), num(a, 'sbVa'));
    const k = this.k;
    k.charge(td, 'kmalloc');
    k.copyin(td, td.kstack + KSTACK.copy_buf, num(a, 'pathVa'), path.length + 1);
    this.files.lookup(td, path);
    k.charge(td, 'call', 3); // vfs_getattr, cp_new_stat
    k.copyout(td, num(a, 'sbVa'), td.kstack + KSTACK.copy_buf, STAT_BYTES);
    k.charge(td, 'kmalloc');
    return 0;
  }

  private mmap(td: Thread, a: SyscallArgs): number {
    const fd = num(a, 'fd');
    let file: OpenFile | undefined;
    if (fd >= 0) {
      file = this.files.fdget(td, fd);
      if (file.vnode.type !== 'reg') throw new Errno('EINVAL');
      if (!file.readable) throw new Errno('EBADF');
      const t = this.task(td);
      t.fileRefs.set(file, (t.fileRefs.get(file) ?? 0) + 1); // get_file: vma->vm_file
      this.mappedFiles.set(str(a, 'name'), file);
    }
    return this.mm.mmap(td, a, file?.vnode ?? null);
  }

  /** remove_vma()'s fput for file mappings that are gone: the last reference defers __fput to the return to user mode. */
  private dropUnmappedFiles(td: Thread): void {
    const t = this.task(td);
    const live = new Set(td.proc.vmspace.entries.map((e) => e.name));
    for (const [name, file] of this.mappedFiles) {
      if (live.has(name)) continue;
      this.mappedFiles.delete(name);
      const left = (t.fileRefs.get(file) ?? 1) - 1;
      if (left > 0) t.fileRefs.set(file, left);
      else {
        t.fileRefs.delete(file);
        t.taskWork.push({ kind: 'fput', file });
        t.flags |= TIF_NOTIFY_RESUME;
        td.cpu.store(t.field('flags'));
      }
    }
  }

  private rtSigaction(td: Thread, a: SyscallArgs): number {
    const k = this.k;
    const sig = num(a, 'sig');
    const act = num(a, 'actVa');
    if (num(a, 'sigsetsize') !== SIGSET_BYTES) throw new Errno('EINVAL');
    if (sig < 1 || sig > 64 || (act !== 0 && (sig === SIGKILL || sig === SIGSTOP))) throw new Errno('EINVAL');
    if (act) k.copyin(td, td.kstack + KSTACK.copy_buf, act, SIGACTION_BYTES);
    // do_sigaction() under spin_lock_irq(&current->sighand->siglock).
    k.lockPair(td, this.task(td).signalAddr);
    k.charge(td, 'sig_op');
    if (act) td.proc.sigactions.set(sig, 'handler');
    const oact = num(a, 'oactVa');
    if (oact) k.copyout(td, oact, td.kstack + KSTACK.copy_buf, SIGACTION_BYTES);
    return 0;
  }

  /**
   * do_execveat_common() -> bprm_execve() -> load_elf_binary(): open the binary, a
   * new mm with its stack vma, the argument strings copied to the new stack, the old
   * mm dropped, each PT_LOAD of the program and of its interpreter mapped (elf_map),
   * the bss tails cleared by padzero (clear_user: a kernel-mode write fault on the
   * data page), the brk set after the bss, and the auxv written by create_elf_tables.
   */
  private execve(td: Thread, path: string, pathVa: number): number {
    const k = this.k;
    const t = this.task(td);
    const vm = td.proc.vmspace;
    const pg = k.pageBytes;
    k.charge(td, 'kmalloc'); // getname
    if (pathVa >= 0) k.copyin(td, td.kstack + KSTACK.copy_buf, pathVa, path.length + 1);
    const vp = this.files.lookup(td, path);
    const image: ExecImage | undefined = k.images.get(path);
    if (vp.type !== 'reg') throw new Errno(vp.type === 'dir' ? 'EISDIR' : 'EINVAL', path);
    if (!image) throw new Error(`no executable image registered for ${path}`);
    k.enter(td, 'bprm_execve', 4);
    k.charge(td, 'kmalloc', 2); // alloc_bprm, the file
    k.call(td, 'do_dentry_open', 2, 'vop'); // do_open_execat
    k.call(td, 'sched_exec', 2);
    // bprm_mm_init(): mm_alloc (the mm and its PGD page) and the stack vma.
    k.charge(td, 'kmalloc', 2);
    k.charge(td, 'page_alloc');
    k.charge(td, 'vm_map_op');
    // prepare_binprm(): kernel_read of the first 256 bytes; then load_elf_binary reads the program headers.
    k.call(td, 'kernel_read', 2, 'vop', 2);
    for (const seg of image.segments) if (seg.file && seg.file !== path) k.call(td, 'open_exec', 2, 'vop', 2); // the interpreter
    // begin_new_exec(): exec_mmap drops the old mm (its pages), de_thread, do_close_on_exec, flush_signal_handlers.
    k.enter(td, 'begin_new_exec', 4);
    const stack = vm.entries.find((e) => e.name === 'stack');
    this.mm.zap(td, t, vm.remove(0, Number.MAX_SAFE_INTEGER));
    for (const pt of t.mm.ptPages.values()) {
      k.charge(td, 'page_free');
      k.phys.release(pt);
    }
    const oldFrames = [...t.mm.ownFrames];
    for (const f of oldFrames) k.phys.release(f);
    const mm = this.mm.newMm(LINUX_MMAP_BASE);
    t.mm = mm;
    this.mappedFiles.clear();
    td.proc.sigactions.clear();
    td.proc.comm = path.slice(path.lastIndexOf('/') + 1);
    k.charge(td, 'call', 6);
    k.leave(td, 'begin_new_exec');
    if (stack) vm.insert({ ...stack, object: null });
    // elf_load() of each PT_LOAD: vm_mmap of the file part, vm_brk_flags for the bss.
    let bssEnd = 0;
    for (const seg of image.segments) {
      const file = seg.file ? k.fs.walk(seg.file).vnode : undefined;
      if (seg.file && file?.type !== 'reg') throw new Error(`image segment ${seg.name}: no file ${seg.file}`);
      k.lockPair(td, t.mmField('mmap_lock'));
      k.charge(td, 'vm_map_op', 2);
      k.charge(td, 'kmalloc');
      const entry: MapEntry = {
        start: seg.va,
        end: seg.va + Math.ceil(seg.bytes / pg) * pg,
        prot: seg.prot,
        private: true,
        object: file && file.type === 'reg' ? file.object : null,
        offsetPages: seg.offsetPages,
        name: seg.name,
      };
      if (file) {
        entry.vnode = file;
        k.call(td, 'generic_file_mmap', 1, 'vop');
      }
      vm.insert(entry);
      if (seg.file === image.segments[0]?.file || !seg.file) bssEnd = Math.max(bssEnd, entry.end);
    }
    // padzero(): clear the bss part of each data segment's last file page (clear_user, kernel mode).
    for (const seg of image.segments) {
      if (!seg.file || seg.prot !== 'rw' || seg.bytes % pg === 0) continue;
      k.enter(td, 'clear_user', 1);
      k.charge(td, 'copy_call');
      k.touchUser(td, seg.va + seg.bytes, pg - (seg.bytes % pg), AccessKind.Write, true);
      k.leave(td, 'clear_user');
    }
    // set_brk: the heap starts after the program's bss (plus arch_randomize_brk's offset).
    t.mm.startBrk = t.mm.brk = bssEnd + BRK_OFFSET;
    td.cpu.store(t.mmField('brk'));
    // copy_strings of argv and envp, then create_elf_tables: argc, the pointers and the auxv.
    if (stack) {
      k.copyout(td, stack.end - image.stringsBytes, td.kstack + KSTACK.copy_buf, image.stringsBytes);
      k.copyout(td, stack.end - image.stringsBytes - 512, td.kstack + KSTACK.copy_buf, 512);
    }
    k.call(td, 'start_thread', 1);
    k.leave(td, 'bprm_execve');
    return 0;
  }

  /** do_group_exit() -> do_exit(): exit_mm (exit_mmap), exit_files (the __fput work runs now), exit_notify. Never returns. */
  private exitGroup(td: Thread, status: number): number {
    const k = this.k;
    const t = this.task(td);
    k.enter(td, 'do_exit', 6);
    k.charge(td, 'call', 2); // exit_signals, acct_update_integrals
    this.mm.exitMmap(td, t);
    for (const f of t.mm.ownFrames) k.phys.release(f);
    t.mm.ownFrames.clear();
    this.mappedFiles.clear();
    this.files.exitFiles(td, t);
    k.charge(td, 'call', 2); // exit_fs, exit_task_namespaces
    k.lockPair(td, k.globals.cnt + LINUX_GLOBALS.tasklist_lock); // exit_notify
    k.charge(td, 'call', 2); // do_notify_parent: SIGCHLD
    td.proc.exitStatus = status;
    k.leave(td, 'do_exit');
    throw new ProcessExited(status);
  }
}
