// The modelled kernel: the machine (CPUs, caches, physical memory), the kernel
// objects at their addresses, the file system, DTrace, and the operations that
// every path is built from (guards, lock operations, assertions, calls, copies,
// page faults). The kernel-specific paths (FreeBSD's syscallenter/trap, Linux's
// do_syscall_64/exc_page_fault) live in ./freebsd and ./linux and are chosen by the
// profile; this class knows nothing of their order, only of what a step costs.

import type { CostName } from '../costmodel/costs.js';
import type { Profile } from '../costmodel/profile.js';
import { deriveRng } from '../events/rng.js';
import type { Simulation } from '../events/simulation.js';
import { Cpu, type ClockHandler } from './cpu.js';
import { CpuProcess, type Dispatcher } from './cpu-process.js';
import { DTrace } from './dtrace/dtrace.js';
import type { Feature } from './features.js';
import { AccessKind, CacheHierarchy } from './machine/cache.js';
import { FILEDESC, KSTACK, KernelMemory, REGION, PROC, SYSENT, SYSENT_ENTRIES, SYSENTVEC, THREAD, UCRED, VM_MAP, VM_OBJECT } from './machine/layout.js';
import { CostBook, Usage } from './meter.js';
import { STEP_TABLES } from './hooks.js';
import { Proc, TDF_ASTPENDING, TDF_NEEDSIGCHK, TDF_NEEDSUSPCHK, Thread, type Ucred } from './proc.js';
import { StepLedger } from './steps.js';
import { STEADY, type FastForwardStats, type SteadyDecl, type StrideDeclarations } from './steady/declare.js';
import type { SyscallArgs } from './syscall-args.js';
import { Errno, FileSystem, type FileDecl, type OpenFile, type Vnode } from './vfs.js';
import { PhysMem } from './vm/physmem.js';
import { VmObject } from './vm/object.js';
import { VmSpace } from './vm/vmspace.js';

/** Rate of the periodic signal of the `signals` feature. */
const SIGNAL_HZ = 100;

export interface KernelOptions {
  seed: string;
  /** Hooks switched on for this run (features.ts). */
  features: ReadonlySet<Feature>;
  /** DTrace scripts "running" during this run, by name (dtrace/scripts.ts). */
  scripts: readonly string[];
  /** Start with every cache line invalid. */
  coldCaches?: boolean;
  /** Record a timeline of spans for trace export, up to this many (0: none). */
  traceEvents?: number;
  /** Simulate every loop iteration (no steady-state fast-forward: steady/fast-forward.ts). */
  exact?: boolean;
  /** Data files besides the profile's (a path the profile has too takes this size), created at boot with their pages cached. */
  files?: readonly FileDecl[];
}

/** A kernel path implementation: the flavour-specific parts of the kernel. */
export interface KernelPath {
  /** Run one system call for `td` from user mode to user mode; returns its result (or throws Errno). */
  syscall(td: Thread, name: string, args: SyscallArgs): number;
  /** A fault on a user address taken in user mode (trap) or inside a copy (kernel mode). */
  userFault(td: Thread, va: number, write: boolean, inKernel: boolean): void;
  /** Names of the system calls this path implements. */
  readonly syscallNames: readonly string[];
  /** A new thread: set the state words its guards test that the run's hooks switch on. */
  initThread(td: Thread): void;
  /** The buffer cache of a path that models storage I/O (FreeBSD's UFS); absent where none is modelled. */
  readonly bufcache?: { uncache(vp: Vnode & { type: 'reg' }): void };
}

export type { SyscallArgs } from './syscall-args.js';

/** One mapping of an executable image, as execve() (imgact_elf) creates it. */
export interface ImageSegment {
  name: string;
  /** Backing file, or none for anonymous memory (bss). */
  file?: string;
  offsetPages: number;
  va: number;
  bytes: number;
  prot: 'r' | 'rw' | 'rx';
}

/** What execve() maps for a program: its segments and the run-time linker's. */
export interface ExecImage {
  segments: ImageSegment[];
  /** Bytes of arguments, environment and auxv copied to the new stack. */
  stringsBytes: number;
}

/** The kernel globals whose lines the hooks test. */
export interface Globals {
  systrace_probe_func: number;
  audit_enabled: number;
  racct_enable: number;
  softdep_ast_cleanup: number;
  lockstat_enabled: number;
  cnt: number;
  zero_region: number;
}

export class Kernel implements ClockHandler, Dispatcher {
  static readonly [STEADY]: SteadyDecl = {
    // Constants of the run (the images are registered before the program starts); the
    // caches, which fast-forward checks by their journals; the engine's side of the
    // CPUs, which it checks by the engine's events; and fast-forward's own record.
    skip: ['profile', 'options', 'book', 'caches', 'cpuProcesses', 'engine', 'termIds', 'term', 'bgLockOpsPerTick', 'fastForward', 'strides', 'images'],
    outputs: ['lockOps', 'backgroundLockOps'],
  };
  readonly book: CostBook;
  readonly usage: Usage;
  readonly caches: CacheHierarchy;
  readonly cpus: Cpu[];
  readonly mem: KernelMemory;
  readonly phys: PhysMem;
  readonly fs: FileSystem;
  readonly dtrace: DTrace;
  readonly steps: StepLedger;
  readonly globals: Globals;
  readonly sysentvec: number;
  readonly sysent: number;
  /** The per-CPU temporary kernel mapping ARM's pmap_zero_page uses (a kernel virtual page). */
  private readonly cmap2: number;
  readonly pageBytes: number;
  readonly lineBytes: number;
  readonly witness: boolean;
  readonly invariants: boolean;
  readonly procs: Proc[] = [];
  /** Executables execve() can load, by path (registered by the userland). */
  readonly images = new Map<string, ExecImage>();
  /** Lock operations (acquire or release) by this CPU's code, and by the rest of the system. */
  lockOps = 0;
  backgroundLockOps = 0;
  path!: KernelPath;
  /** Each CPU's engine process, and the engine, once startCpus() has run. */
  private cpuProcesses: CpuProcess[] = [];
  engine: Simulation | null = null;
  /** While fast-forward checks a loop iteration: where the read and write paths declare the file streams that move (steady/stride.ts). */
  strides: StrideDeclarations | null = null;
  /** What steady-state fast-forward did in this run (steady/fast-forward.ts). */
  readonly fastForward: FastForwardStats = { checks: 0, jumps: 0, skipped: 0 };
  /** Threads ready to run, per CPU, in the order they became runnable. */
  private readonly runQueues: Thread[][];
  /** The meter's id of each profile cost: by name for charge(), whose name varies; as fields for the costs the kernel's own operations name. */
  private readonly termIds: Map<CostName, number>;
  private readonly term: Record<CostName, number>;
  private nextPid = 100;
  private ticks = 0;
  private readonly bgLockOpsPerTick: number;

  constructor(
    readonly profile: Profile,
    readonly options: KernelOptions,
  ) {
    const m = profile.machine;
    this.steps = new StepLedger(STEP_TABLES[profile.kernel], options.traceEvents ?? 0);
    this.book = new CostBook(profile);
    this.usage = new Usage(this.book);
    this.termIds = new Map(this.book.names.filter((n): n is CostName => n in profile.costs).map((n) => [n, this.book.id(n)]));
    this.term = Object.fromEntries(this.termIds) as Record<CostName, number>;
    this.pageBytes = m.page_bytes.value;
    this.lineBytes = m.caches[0]!.line_bytes.value;
    this.caches = new CacheHierarchy({
      cpus: m.cpus.value,
      levels: m.caches.map((c) => ({
        name: c.name,
        sizeBytes: c.size_bytes.value,
        ways: c.ways.value,
        lineBytes: c.line_bytes.value,
        shared: c.shared,
      })),
    });
    const features = options.features;
    this.witness = features.has('witness');
    this.invariants = features.has('invariants');
    this.mem = new KernelMemory(this.lineBytes, profile.kernel_text);
    this.phys = new PhysMem(this.pageBytes);
    this.fs = new FileSystem(() => this.mem.alloc('vm_object', VM_OBJECT.size));
    this.globals = {
      systrace_probe_func: this.mem.global(),
      audit_enabled: this.mem.global(),
      racct_enable: this.mem.global(),
      softdep_ast_cleanup: this.mem.global(),
      lockstat_enabled: this.mem.global(),
      cnt: this.mem.global(),
      zero_region: this.phys.addr(this.phys.alloc()),
    };
    this.sysentvec = this.mem.alloc('sysent', SYSENTVEC.size);
    this.sysent = this.mem.alloc('sysent', SYSENT.size * SYSENT_ENTRIES);
    this.cmap2 = REGION.kernelStacks - this.pageBytes;
    this.bgLockOpsPerTick = profile.kernel_config.background_lock_ops_per_tick.value;
    this.dtrace = new DTrace(this, options.scripts);
    const rng = deriveRng(options.seed, 'clock-phase');
    this.cpus = Array.from({ length: m.cpus.value }, (_, id) =>
      new Cpu(
        id,
        this.caches,
        this.book,
        this.usage,
        { hz: profile.kernel_config.hz.value, stathz: profile.kernel_config.stathz.value, profileHz: this.dtrace.profileHz },
        { hard: rng(), stat: rng(), prof: rng() },
        this,
        { entries: m.tlb.entries.value, kernelPageBytes: m.tlb.kernel_page_bytes.value, walkLoads: m.tlb.walk_loads.value },
      ),
    );
    this.runQueues = this.cpus.map(() => []);
    if (options.coldCaches) this.caches.invalidateAll();
  }

  // ---- Running threads on the engine ------------------------------------------

  /** Start each CPU as a process of `sim`; each runs the threads made runnable on it. */
  startCpus(sim: Simulation): void {
    this.engine = sim;
    this.cpuProcesses = this.cpus.map((cpu) => new CpuProcess(sim, cpu, this));
  }

  /**
   * Make `td` (its code set) runnable on its CPU at `atPs` on the waker's clock (by
   * default its own CPU's), waking that CPU then if it is idle.
   */
  setrunnable(td: Thread, atPs = td.cpu.t): void {
    this.runQueues[td.cpu.id]!.push(td);
    this.cpuProcesses[td.cpu.id]?.wake(atPs);
  }

  /** Dispatcher: the oldest runnable thread of an idle CPU. */
  chooseForIdle(cpu: Cpu): Thread | null {
    return this.runQueues[cpu.id]!.shift() ?? null;
  }

  has(feature: Feature): boolean {
    return this.options.features.has(feature);
  }

  // ---- Processes -------------------------------------------------------------

  newProc(comm: string, mmapBase: number): Thread {
    const vmspace = new VmSpace(this.mem.alloc('vmspace', VM_MAP.size), this.pageBytes, mmapBase);
    const proc = new Proc(this.nextPid++, comm, this.mem.alloc('proc', PROC.size), vmspace, this.mem.alloc('filedesc', FILEDESC.size));
    const ucred: Ucred = { addr: this.mem.alloc('ucred', UCRED.size), cr_flags: 0 };
    const td = new Thread(proc.pid + 100000, proc, this.mem.alloc('thread', THREAD.size), this.mem.stack(KSTACK.size), ucred);
    td.cpu = this.cpus[0]!;
    this.procs.push(proc);
    this.path.initThread(td);
    return td;
  }

  newAnonObject(name: string): VmObject {
    return new VmObject(this.mem.alloc('vm_object', VM_OBJECT.size), 'anon', name);
  }

  // ---- The operations every path is built from --------------------------------

  /** Spend `n` occurrences of a profile cost on td's CPU. */
  charge(td: Thread, cost: CostName, n = 1): void {
    td.cpu.charge(this.termIds.get(cost)!, n);
  }

  /** A guard: load the word at `addr`, compare and branch; returns `cond` so the slow path reads `if (k.guard(...))`. */
  guard(td: Thread, addr: number, cond: boolean): boolean {
    td.cpu.load(addr);
    td.cpu.charge(this.term.guard);
    return cond;
  }

  /** One lock acquire or release: the atomic, WITNESS's bookkeeping, and lockstat's probe if enabled. */
  lockOp(td: Thread, lockAddr: number, count = 1): void {
    for (let i = 0; i < count; i++) {
      // LOCKSTAT_RECORD tests the probe map on every lock operation.
      td.cpu.load(this.globals.lockstat_enabled);
      td.cpu.store(lockAddr);
      td.cpu.charge(this.term.lock_op);
      if (this.witness) td.cpu.charge(this.term.witness_lock_op);
      this.lockOps++;
      this.dtrace.lockstat(td);
    }
  }

  /** An acquire/release pair of the lock at `lockAddr` (the common case of an uncontended critical section). */
  lockPair(td: Thread, lockAddr: number): void {
    this.lockOp(td, lockAddr, 2);
  }

  /** INVARIANTS assertions (compiled out without the option). */
  kassert(td: Thread, n = 1): void {
    if (this.invariants) td.cpu.charge(this.term.kassert, n);
  }

  /** A WITNESS_WARN / WITNESS_CHECK call (compiled out without WITNESS). */
  witnessWarn(td: Thread): void {
    if (this.witness) td.cpu.charge(this.term.witness_warn);
  }

  /**
   * Enter a modelled kernel function: fetch its hot code lines (the profile's kernel
   * text map's, or `textLines` where it has none), fire fbt entry; leave() fires fbt return.
   */
  enter(td: Thread, fn: string, textLines: number): void {
    const cpu = td.cpu;
    const code = this.mem.code(fn);
    const lines = code.hotLines ?? textLines;
    cpu.enter(fn);
    // A function entered between the top-level steps of a span (syscallenter, userret)
    // fetches its code in a step of its own name, so the steps still cover the span.
    if (!this.steps.betweenSteps) cpu.fetch(code.addr, lines);
    else {
      const t0 = cpu.t;
      const top = this.steps.open(fn);
      try {
        cpu.fetch(code.addr, lines);
      } finally {
        this.steps.close(top, fn, t0, cpu.t);
      }
    }
    if (this.dtrace.fbtEnabled) this.dtrace.fbt(td, fn, 'entry');
  }

  leave(td: Thread, fn: string): void {
    if (this.dtrace.fbtEnabled) this.dtrace.fbt(td, fn, 'return');
    td.cpu.leave();
  }

  /** Call a function for its fixed work (class C): code fetch and the call cost. */
  call(td: Thread, fn: string, textLines = 1, work: CostName = 'call', n = 1): void {
    this.enter(td, fn, textLines);
    this.charge(td, work, n);
    this.leave(td, fn);
  }

  /** Run `body` as the top-level step `name` of the current syscall or trap (steps partition its time). */
  step(td: Thread, name: string, body: () => void): void {
    const cpu = td.cpu;
    const t0 = cpu.t;
    const top = this.steps.open(name);
    try {
      body();
    } finally {
      this.steps.close(top, name, t0, cpu.t);
    }
  }

  // ---- User memory -------------------------------------------------------------

  /**
   * A read or write of `len` bytes of a regular file at its offset `start`, whose data
   * the copy streams at physical `addr`: declared to fast-forward while it checks a
   * loop iteration (steady/stride.ts). The call does the same for any offset in the
   * same page with the whole transfer inside the page and inside the file (`size`
   * bytes); a transfer that is not is not declared, and such a loop is simulated in full.
   */
  declareFileStride(file: OpenFile, start: number, len: number, addr: number, kind: AccessKind.Read | AccessKind.Write, size: number): void {
    if (this.strides === null) return;
    const lo = Math.floor(start / this.pageBytes) * this.pageBytes;
    const hi = Math.min(lo + this.pageBytes, size) - len;
    if (start <= hi) this.strides.declare({ file, start, lo, hi, addr, bytes: len, kind });
  }

  /** Physical address of a user virtual address, faulting the page in if needed. */
  private resolve(td: Thread, va: number, write: boolean, inKernel: boolean): number {
    const vm = td.proc.vmspace;
    const vpn = Math.floor(va / this.pageBytes);
    let frame = vm.pmap.get(vpn);
    if (frame === undefined || (write && !vm.writable.has(vpn))) {
      this.path.userFault(td, va, write, inKernel);
      frame = vm.pmap.get(vpn);
      if (frame === undefined) throw new Error(`fault at 0x${va.toString(16)} did not map the page`);
    }
    return this.phys.addr(frame) + (va % this.pageBytes);
  }

  /** User memory [va, va+bytes) a page at a time: `each(pa, off, n)` for the n bytes at offset off, the page resolved (faulted in) first. */
  private userPages(td: Thread, va: number, bytes: number, write: boolean, inKernel: boolean, each: (pa: number, off: number, n: number) => void): void {
    let off = 0;
    while (off < bytes) {
      const here = va + off;
      const n = Math.min(bytes - off, this.pageBytes - (here % this.pageBytes));
      each(this.resolve(td, here, write, inKernel), off, n);
      off += n;
    }
  }

  /** Access user memory [va, va+bytes) page by page, as user code (traps) or as copyout/copyin (faults inside the syscall). */
  touchUser(td: Thread, va: number, bytes: number, kind: AccessKind, inKernel: boolean): void {
    this.userPages(td, va, bytes, kind !== AccessKind.Read, inKernel, (pa, _off, n) => td.cpu.stream(pa, n, kind));
  }

  /** Copy kernel memory at `src` to user memory (copyout); faults on untouched pages are taken inside. */
  copyout(td: Thread, uva: number, src: number, bytes: number, srcWraps = 0): void {
    this.charge(td, 'copy_call');
    this.userPages(td, uva, bytes, true, true, (pa, off, n) => td.cpu.copy(pa, srcWraps > 0 ? src + (off % srcWraps) : src + off, n));
  }

  /** Copy user memory into the kernel at `dst` (copyin). */
  copyin(td: Thread, dst: number, uva: number, bytes: number): void {
    this.charge(td, 'copy_call');
    this.userPages(td, uva, bytes, false, true, (pa, off, n) => td.cpu.copy(dst + off, pa, n));
  }

  /**
   * A page of a regular file in the page cache, allocated on first use: the files
   * the modelled programs read were read long ago, so the frame is already
   * resident and touched (no first-touch cost).
   */
  filePage(vp: Vnode & { type: 'reg' }, pindex: number): number {
    let frame = vp.object.pages.get(pindex);
    if (frame === undefined) {
      frame = this.phys.alloc();
      this.phys.firstTouch(frame);
      vp.object.pages.set(pindex, frame);
    }
    return frame;
  }

  /**
   * The mapping check before a fault is handled: an access outside the process's
   * mappings (or against their protection) fails with EFAULT inside a copy, and
   * would be SIGSEGV in user mode, which no modelled program does.
   */
  checkUserAccess(td: Thread, va: number, write: boolean, inKernel: boolean): void {
    const entry = td.proc.vmspace.lookup(va);
    if (!entry || entry.prot === 'none' || (write && entry.prot !== 'rw')) {
      if (inKernel) throw new Errno('EFAULT');
      throw new Error(`modelled program touched 0x${va.toString(16)} outside its mappings (SIGSEGV)`);
    }
  }

  /** Zero a physical frame (pagezero / clear_page), paying the first-touch cost of a never-used frame. */
  zeroFrame(td: Thread, frame: number, nonTemporal: boolean): void {
    if (this.phys.firstTouch(frame)) td.cpu.charge(this.book.id('first_touch'));
    const pa = this.phys.addr(frame);
    if (nonTemporal) {
      // amd64 zeroes through the direct map (large pages) with non-temporal stores.
      td.cpu.stream(pa, this.pageBytes, AccessKind.WriteNonTemporal, this.profile.machine.tlb.kernel_page_bytes.value);
    } else {
      // ARM maps the frame at the per-CPU CMAP2 slot, zeroes it, and flushes that TLB entry.
      td.cpu.streamVia(this.cmap2, this.pageBytes, pa, this.pageBytes, AccessKind.Write);
      td.cpu.invalidatePage(this.cmap2, this.pageBytes);
    }
  }


  // ---- Clocks (ClockHandler) -------------------------------------------------

  hardclock(cpu: Cpu): void {
    const t0 = cpu.t;
    cpu.charge(this.term.clock_intr);
    this.ticks++;
    const td = this.threadOn(cpu);
    if (td) this.postTickWork(td); // cpu.mode is always Interrupt here (Cpu.interrupt sets it before hardclock)
    // The rest of the system's lock traffic per tick (callouts, other threads);
    // its cost is in clock_intr, but each one fires lockstat when it is enabled.
    this.backgroundLockOps += this.bgLockOpsPerTick;
    this.dtrace.backgroundLockstat(cpu, this.bgLockOpsPerTick);
    this.steps.interrupt(cpu.t - t0, true);
  }

  /** Work that the features make the clock post to the running thread: a periodic signal, a suspension request. */
  private postTickWork(td: Thread): void {
    const hz = this.profile.kernel_config.hz.value;
    if (this.has('signals') && this.ticks % Math.max(1, Math.round(hz / SIGNAL_HZ)) === 0) {
      td.proc.p_pendingcnt++;
      td.td_flags |= TDF_ASTPENDING | TDF_NEEDSIGCHK;
    }
    if (this.has('suspend')) td.td_flags |= TDF_ASTPENDING | TDF_NEEDSUSPCHK;
  }

  statclock(_cpu: Cpu): void {}

  profileTick(cpu: Cpu): void {
    const t0 = cpu.t;
    this.dtrace.profileTick(cpu);
    this.steps.interrupt(cpu.t - t0, false);
  }

  /** The thread on `cpu`, unless it is idle or its process has exited (what curthread means to DTrace's execname and to the clock's posted work). */
  threadOn(cpu: Cpu): Thread | undefined {
    const td = cpu.curthread as Thread | null;
    return td !== null && td.proc.exitStatus === null ? td : undefined;
  }
}
