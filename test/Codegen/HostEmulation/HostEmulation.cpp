//===- HostEmulation.cpp - Fiber scheduler behind HostEmulation.h ---------===//
//
// Runs a CUDA grid on the calling OS thread: blocks one after another, the
// threads of a block as user-space fibers. A fiber runs until it has to wait
// (at __syncthreads or a warp collective) or its thread returns, and then
// switches straight to the next ready fiber. Fibers are entered the first
// time through makecontext/setcontext and afterwards switched with
// _setjmp/_longjmp (or swapcontext, if asked for). Each fiber is a loop that
// runs the kernel once per block, so a fiber is created once per OS thread and
// reused by every later block and launch.
//
// Barrier bookkeeping:
//  * __syncthreads: a count of arrived threads; it opens when it equals the
//    number of live (not returned) threads, so returned threads count as
//    arrived, as on sm_70+.
//  * Warp collectives (__syncwarp, shuffles, votes, matches, reductions): a
//    lane posts (op, mask, value, parameter) in its own slot and waits. The
//    collective completes when every live lane of the mask has posted with
//    the same mask; the last lane to arrive (or to return) computes every
//    participant's result into that participant's own result slot and makes
//    them ready. A lane reads its result right after it resumes, before it can
//    post again, and no collective that includes a lane can complete without
//    it, so a fast lane can never overwrite a value or a result a slow lane
//    has not consumed yet.
//  * Deadlock: a fiber that must wait when no fiber is ready and some are
//    still live finds the block stuck; it records a description and returns
//    to the launcher, which throws EmulationError.
//
//===----------------------------------------------------------------------===//

#include "HostEmulation.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

namespace ssprop::emu {

EmulationError::~EmulationError() = default;

namespace {

using detail::BarrierOp;
using detail::WarpOp;

constexpr std::uint64_t kCanary = 0x5353505f454d5521ull; // "!UME_PSS"
constexpr std::size_t kDefaultStackSize = 64 * 1024;
constexpr unsigned kMaxThreadsPerBlock = 1024;

enum class State : std::uint8_t { Idle, Ready, Running, WaitBlock, WaitWarp, Done };

std::size_t pageSize() {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

struct Fiber {
  ThreadCtx ctx{};
  State state = State::Idle;
  // Suspended inside switchTo() and can be resumed there. False for a fiber
  // never entered, or whose stack was abandoned by an aborted block.
  bool resumable = false;
  jmp_buf jb;
  ucontext_t uc;
  // Stack: [map, map + guard) is PROT_NONE, [lo, lo + size) usable; the
  // canary sits at lo.
  char *map = nullptr;
  std::size_t mapSize = 0;
  char *lo = nullptr;
  std::size_t size = 0;

  // Warp collective this lane waits at (valid while state == WaitWarp), then
  // its result.
  WarpOp op = WarpOp::SyncWarp;
  unsigned mask = 0;
  std::uint64_t value = 0;
  int param = 0;
  int width = 32;
  std::uint64_t result = 0;
  // __syncthreads flavour waited at, then its result.
  BarrierOp barOp = BarrierOp::Plain;
  int syncResult = 0;
  // Where it waits (for deadlock reports).
  const char *file = nullptr;
  int line = 0;

  Fiber() = default;
  Fiber(const Fiber &) = delete;
  Fiber &operator=(const Fiber &) = delete;
  ~Fiber() {
    if (map)
      munmap(map, mapSize);
  }
};

struct Warp {
  unsigned live = 0;   // lanes that exist and have not returned
  unsigned posted = 0; // lanes waiting at a warp collective
};

std::string fmtDim(unsigned x, unsigned y, unsigned z) {
  return "(" + std::to_string(x) + "," + std::to_string(y) + "," +
         std::to_string(z) + ")";
}

std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

const char *opName(WarpOp op) {
  switch (op) {
  case WarpOp::SyncWarp: return "__syncwarp";
  case WarpOp::ShflIdx: return "__shfl_sync";
  case WarpOp::ShflUp: return "__shfl_up_sync";
  case WarpOp::ShflDown: return "__shfl_down_sync";
  case WarpOp::ShflXor: return "__shfl_xor_sync";
  case WarpOp::Ballot: return "__ballot_sync";
  case WarpOp::Any: return "__any_sync";
  case WarpOp::All: return "__all_sync";
  case WarpOp::MatchAny: return "__match_any_sync";
  case WarpOp::MatchAll: return "__match_all_sync";
  case WarpOp::ReduceAdd: return "__reduce_add_sync";
  case WarpOp::ReduceMinU: case WarpOp::ReduceMinI: return "__reduce_min_sync";
  case WarpOp::ReduceMaxU: case WarpOp::ReduceMaxI: return "__reduce_max_sync";
  case WarpOp::ReduceAnd: return "__reduce_and_sync";
  case WarpOp::ReduceOr: return "__reduce_or_sync";
  case WarpOp::ReduceXor: return "__reduce_xor_sync";
  }
  return "warp collective";
}

const char *barName(BarrierOp op) {
  switch (op) {
  case BarrierOp::Plain: return "__syncthreads()";
  case BarrierOp::Count: return "__syncthreads_count()";
  case BarrierOp::And: return "__syncthreads_and()";
  case BarrierOp::Or: return "__syncthreads_or()";
  }
  return "__syncthreads()";
}

std::string where(const char *file, int line) {
  if (!file)
    return "";
  return std::string(" at ") + file + ":" + std::to_string(line);
}

SwitchMethod methodFromEnv() {
  const char *v = std::getenv("SSPROP_EMU_SWITCH");
  if (v && (std::strcmp(v, "swapcontext") == 0 || std::strcmp(v, "ucontext") == 0))
    return SwitchMethod::SwapContext;
  return SwitchMethod::SetJmp;
}

std::size_t stackSizeFromEnv() {
  if (const char *v = std::getenv("SSPROP_EMU_STACK_KB")) {
    char *end = nullptr;
    unsigned long kb = std::strtoul(v, &end, 10);
    if (end != v && kb >= 4)
      return static_cast<std::size_t>(kb) * 1024;
  }
  return kDefaultStackSize;
}

void fiberMain();

struct Scheduler {
  std::vector<std::unique_ptr<Fiber>> fibers;
  std::size_t stackSize = stackSizeFromEnv();
  SwitchMethod method = methodFromEnv();

  jmp_buf mainJb;
  ucontext_t mainUc;
  Fiber *cur = nullptr; // nullptr: the launcher's own context

  // Block being run.
  KernelEntry entry = nullptr;
  void **params = nullptr;
  dim3 grid, block;
  uint3 curBlock{0, 0, 0};
  unsigned nthreads = 0;
  unsigned live = 0;
  std::vector<Warp> warps;
  std::vector<Fiber *> queue; // ready fibers, ring buffer of capacity nthreads
  unsigned qHead = 0, qCount = 0;
  unsigned barArrived = 0, barContrib = 0, barTrue = 0;

  bool inLaunch = false;
  bool aborted = false;
  std::string error;
  std::exception_ptr exc;
  Stats st;

  void *altStack = nullptr; // sigaltstack installed for this OS thread
  std::size_t altStackSize = 0;

  ~Scheduler();

  Fiber *fiber(unsigned i) { return fibers[i].get(); }

  // --- fibers and stacks ---------------------------------------------------
  void ensureFibers(unsigned n) {
    std::size_t want = (stackSize + pageSize() - 1) / pageSize() * pageSize();
    for (auto &f : fibers)
      if (f->size != want) { // stack size changed: drop the old stacks
        fibers.clear();
        break;
      }
    while (fibers.size() < n) {
      auto f = std::make_unique<Fiber>();
      std::size_t guard = pageSize();
      f->mapSize = want + guard;
      void *m = mmap(nullptr, f->mapSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1,
                     0);
      if (m == MAP_FAILED)
        throw EmulationError("ssprop::emu: cannot allocate a fiber stack of " +
                             std::to_string(want / 1024) + " KiB");
      f->map = static_cast<char *>(m);
      if (mprotect(f->map, guard, PROT_NONE) != 0)
        throw EmulationError("ssprop::emu: cannot protect a fiber stack guard page");
      f->lo = f->map + guard;
      f->size = want;
      std::memcpy(f->lo, &kCanary, sizeof kCanary);
      fibers.push_back(std::move(f));
    }
  }

  bool canaryIntact(const Fiber *f) const {
    std::uint64_t v;
    std::memcpy(&v, f->lo, sizeof v);
    return v == kCanary;
  }

  void prepareFresh(Fiber *f) {
    getcontext(&f->uc);
    f->uc.uc_stack.ss_sp = f->lo;
    f->uc.uc_stack.ss_size = f->size;
    f->uc.uc_stack.ss_flags = 0;
    f->uc.uc_link = nullptr;
    makecontext(&f->uc, fiberMain, 0);
    ++st.fiberStarts;
  }

  /// Suspends the running context (a fiber or the launcher) and runs `to`
  /// (nullptr: the launcher). Returns when something switches back.
  __attribute__((noinline)) void switchTo(Fiber *to) {
    Fiber *from = cur;
    cur = to;
    ++st.switches;
    if (from)
      from->resumable = true;
    if (method == SwitchMethod::SetJmp) {
      if (_setjmp(from ? from->jb : mainJb) == 0) {
        if (!to)
          _longjmp(mainJb, 1);
        if (to->resumable)
          _longjmp(to->jb, 1);
        prepareFresh(to);
        setcontext(&to->uc);
        std::abort(); // setcontext does not return
      }
    } else {
      ucontext_t *save = from ? &from->uc : &mainUc;
      if (!to) {
        swapcontext(save, &mainUc);
      } else {
        if (!to->resumable)
          prepareFresh(to);
        swapcontext(save, &to->uc);
      }
    }
  }

  // --- ready queue ---------------------------------------------------------
  void push(Fiber *f) {
    f->state = State::Ready;
    queue[(qHead + qCount++) % nthreads] = f;
  }
  Fiber *pop() {
    Fiber *f = queue[qHead];
    qHead = (qHead + 1) % nthreads;
    --qCount;
    return f;
  }
  /// Makes `f` ready, or lets it continue if it is the running fiber.
  void wake(Fiber *f) {
    if (f == cur)
      f->state = State::Running;
    else
      push(f);
  }

  /// The running fiber cannot continue: run the next ready fiber, or go back
  /// to the launcher when the block is finished or stuck.
  void scheduleNext() {
    if (aborted) {
      switchTo(nullptr);
    } else if (qCount) {
      Fiber *next = pop();
      next->state = State::Running;
      switchTo(next);
    } else if (live == 0) {
      switchTo(nullptr);
    } else {
      error = describeDeadlock();
      aborted = true;
      switchTo(nullptr);
    }
  }

  [[noreturn]] void fail(std::string msg) {
    error = std::move(msg);
    aborted = true;
    switchTo(nullptr);
    std::abort(); // an aborted block's fibers are never resumed
  }

  std::string blockName() const {
    return "block " + fmtDim(curBlock.x, curBlock.y, curBlock.z) +
           " (grid " + fmtDim(grid.x, grid.y, grid.z) + ", block dims " +
           fmtDim(block.x, block.y, block.z) + ")";
  }
  static std::string threadName(const Fiber *f) {
    return "threadIdx " + fmtDim(f->ctx.tid.x, f->ctx.tid.y, f->ctx.tid.z) +
           " (warp " + std::to_string(f->ctx.warp) + " lane " +
           std::to_string(f->ctx.lane) + ")";
  }

  // --- __syncthreads -------------------------------------------------------
  void releaseBarrier() {
    int count = static_cast<int>(barTrue);
    int all = barTrue == barContrib;
    int any = barTrue > 0;
    for (unsigned i = 0; i < nthreads; ++i) {
      Fiber *f = fiber(i);
      if (f->state != State::WaitBlock)
        continue;
      switch (f->barOp) {
      case BarrierOp::Plain: f->syncResult = 0; break;
      case BarrierOp::Count: f->syncResult = count; break;
      case BarrierOp::And: f->syncResult = all; break;
      case BarrierOp::Or: f->syncResult = any; break;
      }
      wake(f);
    }
    barArrived = barContrib = barTrue = 0;
  }

  int syncThreads(BarrierOp op, int pred, const char *file, int line) {
    Fiber *f = cur;
    f->state = State::WaitBlock;
    f->barOp = op;
    f->file = file;
    f->line = line;
    ++barArrived;
    if (op != BarrierOp::Plain) {
      ++barContrib;
      barTrue += pred != 0;
    }
    if (barArrived == live)
      releaseBarrier();
    else
      scheduleNext();
    return f->syncResult;
  }

  // --- warp collectives ----------------------------------------------------
  static int sourceLane(WarpOp op, int lane, int b, int width) {
    // PTX shfl.sync semantics with the clamp CUDA passes for `width`.
    int seg = lane & ~(width - 1); // first lane of the lane's segment
    int last = seg + width - 1;
    b &= 31;
    int j = lane;
    switch (op) {
    case WarpOp::ShflIdx: j = seg + (b & (width - 1)); break;
    case WarpOp::ShflUp: j = lane - b >= seg ? lane - b : lane; break;
    case WarpOp::ShflDown: j = lane + b <= last ? lane + b : lane; break;
    case WarpOp::ShflXor: j = (lane ^ b) <= last ? lane ^ b : lane; break;
    default: break;
    }
    return j;
  }

  /// Completes the collective of the lanes of warp `w` posted with `mask` if
  /// all of its live lanes have posted. Returns whether it completed.
  bool tryCompleteWarp(unsigned w, unsigned mask) {
    Warp &wp = warps[w];
    unsigned group = mask & wp.live;
    if (group & ~wp.posted)
      return false;
    Fiber *base[32];
    WarpOp op = WarpOp::SyncWarp;
    Fiber *first = nullptr;
    for (unsigned g = group; g; g &= g - 1) {
      unsigned l = static_cast<unsigned>(__builtin_ctz(g));
      Fiber *f = fiber(w * 32 + l);
      if (f->mask != mask)
        return false; // waits at another collective; it may still come
      base[l] = f;
      if (!first) {
        first = f;
        op = f->op;
      } else if (f->op != op) {
        fail("ssprop::emu: warp divergence in " + blockName() + ": lanes of warp " +
             std::to_string(w) + " meet at different warp collectives with mask " +
             hex(mask) + ": " + threadName(first) + " at " + opName(op) +
             where(first->file, first->line) + ", " + threadName(f) + " at " +
             opName(f->op) + where(f->file, f->line));
      }
    }
    if (!first) // every lane of the mask returned; nothing to complete
      return false;

    std::uint64_t ballot = 0;
    for (unsigned g = group; g; g &= g - 1) {
      unsigned l = static_cast<unsigned>(__builtin_ctz(g));
      if (base[l]->value)
        ballot |= 1u << l;
    }
    switch (op) {
    case WarpOp::ShflIdx: case WarpOp::ShflUp: case WarpOp::ShflDown:
    case WarpOp::ShflXor:
      for (unsigned g = group; g; g &= g - 1) {
        unsigned l = static_cast<unsigned>(__builtin_ctz(g));
        Fiber *f = base[l];
        unsigned src = static_cast<unsigned>(
            sourceLane(op, static_cast<int>(l), f->param, f->width));
        // Reading a lane outside the collective is undefined in CUDA; here
        // it yields the lane's own value.
        f->result = (group >> src) & 1u ? base[src]->value : f->value;
      }
      break;
    case WarpOp::SyncWarp:
      for (unsigned g = group; g; g &= g - 1)
        base[__builtin_ctz(g)]->result = 0;
      break;
    case WarpOp::Ballot: case WarpOp::Any: case WarpOp::All: {
      std::uint64_t r = op == WarpOp::Ballot ? ballot
                        : op == WarpOp::Any  ? ballot != 0
                                             : ballot == group;
      for (unsigned g = group; g; g &= g - 1)
        base[__builtin_ctz(g)]->result = r;
      break;
    }
    case WarpOp::MatchAny:
      for (unsigned g = group; g; g &= g - 1) {
        Fiber *f = base[__builtin_ctz(g)];
        unsigned m = 0;
        for (unsigned h = group; h; h &= h - 1) {
          unsigned k = static_cast<unsigned>(__builtin_ctz(h));
          if (base[k]->value == f->value)
            m |= 1u << k;
        }
        f->result = m;
      }
      break;
    case WarpOp::MatchAll: {
      bool same = true;
      for (unsigned g = group; g; g &= g - 1)
        same &= base[__builtin_ctz(g)]->value == first->value;
      for (unsigned g = group; g; g &= g - 1)
        base[__builtin_ctz(g)]->result = same ? group : 0;
      break;
    }
    default: { // reductions over 32-bit values
      std::uint32_t acc = 0;
      bool init = false;
      for (unsigned g = group; g; g &= g - 1) {
        std::uint32_t v = static_cast<std::uint32_t>(base[__builtin_ctz(g)]->value);
        auto sv = static_cast<std::int32_t>(v);
        auto sa = static_cast<std::int32_t>(acc);
        if (!init) {
          acc = v;
          init = true;
          continue;
        }
        switch (op) {
        case WarpOp::ReduceAdd: acc += v; break;
        case WarpOp::ReduceMinU: acc = std::min(acc, v); break;
        case WarpOp::ReduceMaxU: acc = std::max(acc, v); break;
        case WarpOp::ReduceMinI: acc = static_cast<std::uint32_t>(std::min(sa, sv)); break;
        case WarpOp::ReduceMaxI: acc = static_cast<std::uint32_t>(std::max(sa, sv)); break;
        case WarpOp::ReduceAnd: acc &= v; break;
        case WarpOp::ReduceOr: acc |= v; break;
        case WarpOp::ReduceXor: acc ^= v; break;
        default: break;
        }
      }
      for (unsigned g = group; g; g &= g - 1)
        base[__builtin_ctz(g)]->result = acc;
      break;
    }
    }

    wp.posted &= ~group;
    for (unsigned g = group; g; g &= g - 1)
      wake(base[__builtin_ctz(g)]);
    return true;
  }

  std::uint64_t warpOp(WarpOp op, unsigned mask, std::uint64_t value,
                       int param, int width, const char *file, int line) {
    Fiber *f = cur;
    unsigned lane = f->ctx.lane, w = f->ctx.warp;
    unsigned bit = 1u << lane;
    f->file = file;
    f->line = line;
    if (!(mask & bit))
      fail("ssprop::emu: " + std::string(opName(op)) + where(file, line) +
           " in " + blockName() + ": " + threadName(f) +
           " calls it with mask " + hex(mask) + ", which does not include its own lane");
    if (width < 1 || width > 32 || (width & (width - 1)))
      fail("ssprop::emu: " + std::string(opName(op)) + where(file, line) +
           " in " + blockName() + ": width " + std::to_string(width) +
           " is not a power of two in [1, 32]");
    f->op = op;
    f->mask = mask;
    f->value = value;
    f->param = param;
    f->width = width;
    f->state = State::WaitWarp;
    warps[w].posted |= bit;
    if (!tryCompleteWarp(w, mask))
      scheduleNext();
    return f->result;
  }

  // --- thread exit ---------------------------------------------------------
  void onExit(Fiber *f) {
    f->state = State::Done;
    --live;
    if (!aborted) {
      Warp &wp = warps[f->ctx.warp];
      wp.live &= ~(1u << f->ctx.lane);
      // Lanes waiting for this one in a collective may now be complete.
      for (unsigned p = wp.posted; p; p &= p - 1) {
        unsigned l = static_cast<unsigned>(__builtin_ctz(p));
        if (wp.posted & (1u << l))
          tryCompleteWarp(f->ctx.warp, fiber(f->ctx.warp * 32 + l)->mask);
      }
      if (barArrived && barArrived == live)
        releaseBarrier();
    }
    scheduleNext(); // returns when this fiber is handed a thread of a new block
  }

  // --- deadlock report -----------------------------------------------------
  std::string describeDeadlock() {
    std::ostringstream os;
    os << "ssprop::emu: deadlock in " << blockName() << ": all " << live
       << " live threads wait and none can proceed";
    // Group the waiting threads by where they wait.
    struct Group {
      unsigned count = 0;
      const Fiber *example = nullptr;
      unsigned firstWarp = ~0u, lastWarp = 0;
    };
    std::map<std::tuple<int, int, unsigned, std::string, int>, Group> groups;
    for (unsigned i = 0; i < nthreads; ++i) {
      const Fiber *f = fiber(i);
      if (f->state != State::WaitBlock && f->state != State::WaitWarp)
        continue;
      bool isBar = f->state == State::WaitBlock;
      auto key = std::make_tuple(isBar ? 0 : 1,
                                 isBar ? static_cast<int>(f->barOp) : static_cast<int>(f->op),
                                 isBar ? 0u : f->mask, std::string(f->file ? f->file : ""),
                                 f->line);
      Group &g = groups[key];
      if (!g.count++)
        g.example = f;
      g.firstWarp = std::min(g.firstWarp, f->ctx.warp);
      g.lastWarp = std::max(g.lastWarp, f->ctx.warp);
    }
    for (auto &[key, g] : groups) {
      const Fiber *f = g.example;
      os << "\n  " << g.count << " thread(s) wait at ";
      if (std::get<0>(key) == 0) {
        os << barName(f->barOp) << where(f->file, f->line) << " ("
           << barArrived << " of " << live << " live threads arrived), e.g. "
           << threadName(f);
      } else {
        const Warp &wp = warps[f->ctx.warp];
        unsigned missing = f->mask & wp.live;
        for (unsigned p = missing; p; p &= p - 1) {
          unsigned l = static_cast<unsigned>(__builtin_ctz(p));
          const Fiber *o = fibers[f->ctx.warp * 32 + l].get();
          if (o->state == State::WaitWarp && o->mask == f->mask)
            missing &= ~(1u << l);
        }
        os << opName(f->op) << "(mask " << hex(f->mask) << ")"
           << where(f->file, f->line) << " in warp(s) " << g.firstWarp;
        if (g.lastWarp != g.firstWarp)
          os << ".." << g.lastWarp;
        os << ", e.g. " << threadName(f) << ", which waits for lanes "
           << hex(missing) << " of its warp";
        if (missing) {
          const Fiber *o =
              fibers[f->ctx.warp * 32 + static_cast<unsigned>(__builtin_ctz(missing))].get();
          os << " (lane " << o->ctx.lane << " waits at "
             << (o->state == State::WaitBlock ? std::string(barName(o->barOp))
                                              : std::string(opName(o->op)) + "(mask " + hex(o->mask) + ")")
             << where(o->file, o->line) << ")";
        }
      }
    }
    return os.str();
  }

  // --- launching -----------------------------------------------------------
  void resetAfterAbort() {
    // Fibers of an aborted block are left mid-kernel (or inside fail()):
    // restart every fiber from scratch next time.
    for (auto &f : fibers) {
      f->resumable = false;
      f->state = State::Idle;
    }
    aborted = false;
    qCount = qHead = 0;
  }

  void runBlock(uint3 bid) {
    curBlock = bid;
    unsigned bx = block.x, by = block.y;
    for (unsigned i = 0; i < nthreads; ++i) {
      Fiber *f = fiber(i);
      f->ctx.tid = uint3{i % bx, (i / bx) % by, i / (bx * by)};
      f->ctx.bid = bid;
      f->ctx.bdim = block;
      f->ctx.gdim = grid;
      f->ctx.linear = i;
      f->ctx.lane = i % 32;
      f->ctx.warp = i / 32;
      f->syncResult = 0;
      f->result = 0;
      f->file = nullptr;
      f->line = 0;
    }
    for (unsigned w = 0; w < warps.size(); ++w) {
      unsigned lanes = std::min(32u, nthreads - w * 32);
      warps[w].live = lanes == 32 ? ~0u : (1u << lanes) - 1;
      warps[w].posted = 0;
    }
    qHead = qCount = 0;
    for (unsigned i = 0; i < nthreads; ++i)
      push(fiber(i));
    live = nthreads;
    barArrived = barContrib = barTrue = 0;
    ++st.blocks;
    st.threads += nthreads;

    Fiber *first = pop();
    first->state = State::Running;
    switchTo(first);
    // Back on the launcher's stack: the block finished or was aborted.

    for (unsigned i = 0; i < nthreads; ++i)
      if (!canaryIntact(fiber(i))) {
        std::string who = threadName(fiber(i));
        resetAfterAbort();
        fibers.clear(); // the stacks may be corrupt: allocate new ones
        throw EmulationError("ssprop::emu: fiber stack overflow of " + who +
                             " in " + blockName() + ": stacks are " +
                             std::to_string(stackSize / 1024) +
                             " KiB; raise SSPROP_EMU_STACK_KB or call "
                             "ssprop::emu::setFiberStackSize()");
      }
    if (aborted) {
      std::exception_ptr e = std::move(exc);
      std::string msg = std::move(error);
      exc = nullptr;
      error.clear();
      resetAfterAbort();
      if (e)
        std::rethrow_exception(e);
      throw EmulationError(msg);
    }
  }

  void launch(KernelEntry e, dim3 g, dim3 b, void **p);
};

thread_local Scheduler *tlSched = nullptr;
thread_local std::unique_ptr<Scheduler> tlOwner;

Scheduler &scheduler() {
  if (!tlSched) {
    tlOwner = std::make_unique<Scheduler>();
    tlSched = tlOwner.get();
  }
  return *tlSched;
}

void fiberMain() {
  for (;;) {
    Scheduler *s = tlSched;
    Fiber *f = s->cur;
    try {
      s->entry(s->params);
    } catch (...) {
      if (!s->aborted) {
        s->exc = std::current_exception();
        s->aborted = true;
      }
    }
    s->onExit(f);
  }
}

//===----------------------------------------------------------------------===//
// Fiber stack overflow: a SIGSEGV in a guard page names the thread.
//===----------------------------------------------------------------------===//

std::atomic<int> gActiveLaunches{0};
std::mutex gSignalMutex;
struct sigaction gPrevSegv;

void appendStr(char *buf, std::size_t &n, std::size_t cap, const char *s) {
  while (*s && n + 1 < cap)
    buf[n++] = *s++;
}
void appendNum(char *buf, std::size_t &n, std::size_t cap, unsigned long v) {
  char tmp[24];
  int k = 0;
  do {
    tmp[k++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (k && n + 1 < cap)
    buf[n++] = tmp[--k];
}
void appendDim(char *buf, std::size_t &n, std::size_t cap, unsigned x,
               unsigned y, unsigned z) {
  appendStr(buf, n, cap, "(");
  appendNum(buf, n, cap, x);
  appendStr(buf, n, cap, ",");
  appendNum(buf, n, cap, y);
  appendStr(buf, n, cap, ",");
  appendNum(buf, n, cap, z);
  appendStr(buf, n, cap, ")");
}

void segvHandler(int sig, siginfo_t *info, void *) {
  if (gActiveLaunches.load(std::memory_order_relaxed) > 0) {
    Scheduler *s = tlSched;
    char *addr = static_cast<char *>(info->si_addr);
    if (s && s->inLaunch) {
      for (auto &fp : s->fibers) {
        Fiber *f = fp.get();
        if (f->map && addr >= f->map && addr < f->lo) {
          char buf[512];
          std::size_t n = 0;
          appendStr(buf, n, sizeof buf,
                    "ssprop::emu: fiber stack overflow of emulated thread threadIdx ");
          appendDim(buf, n, sizeof buf, f->ctx.tid.x, f->ctx.tid.y, f->ctx.tid.z);
          appendStr(buf, n, sizeof buf, " in block ");
          appendDim(buf, n, sizeof buf, f->ctx.bid.x, f->ctx.bid.y, f->ctx.bid.z);
          appendStr(buf, n, sizeof buf, ": fiber stacks are ");
          appendNum(buf, n, sizeof buf, f->size / 1024);
          appendStr(buf, n, sizeof buf,
                    " KiB; raise SSPROP_EMU_STACK_KB or call "
                    "ssprop::emu::setFiberStackSize()\n");
          ssize_t ignored = write(STDERR_FILENO, buf, n);
          (void)ignored;
          break;
        }
      }
    }
  }
  // Hand the fault to whoever had SIGSEGV before: restore it and return, so
  // the faulting instruction faults again under the previous disposition.
  sigaction(sig, &gPrevSegv, nullptr);
}

void installSignalHandling(Scheduler &s) {
  static const bool disabled = std::getenv("SSPROP_EMU_NO_SEGV_HANDLER") != nullptr;
  if (disabled)
    return;
  // The handler must run on an alternate stack: the fiber's stack is full.
  stack_t ss;
  if (!s.altStack && sigaltstack(nullptr, &ss) == 0 && (ss.ss_flags & SS_DISABLE)) {
    std::size_t size = std::max<std::size_t>(64 * 1024, SIGSTKSZ);
    void *m = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED) {
      stack_t mine{};
      mine.ss_sp = m;
      mine.ss_size = size;
      if (sigaltstack(&mine, nullptr) == 0) {
        s.altStack = m;
        s.altStackSize = size;
      } else {
        munmap(m, size);
      }
    }
  }
  std::lock_guard<std::mutex> lock(gSignalMutex);
  struct sigaction cur;
  if (sigaction(SIGSEGV, nullptr, &cur) != 0)
    return;
  if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == segvHandler)
    return;
  struct sigaction sa{};
  sa.sa_sigaction = segvHandler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  gPrevSegv = cur;
  sigaction(SIGSEGV, &sa, nullptr);
}

Scheduler::~Scheduler() {
  if (altStack) {
    stack_t cur;
    if (sigaltstack(nullptr, &cur) == 0 && cur.ss_sp == altStack) {
      stack_t off{};
      off.ss_flags = SS_DISABLE;
      sigaltstack(&off, nullptr);
    }
    munmap(altStack, altStackSize);
  }
}

void Scheduler::launch(KernelEntry e, dim3 g, dim3 b, void **p) {
  if (inLaunch)
    throw EmulationError(
        "ssprop::emu: launchKernel called from inside an emulated kernel "
        "(dynamic parallelism is not supported)");
  if (!e)
    throw EmulationError("ssprop::emu: launchKernel: null kernel entry");
  unsigned long long threads =
      static_cast<unsigned long long>(b.x) * b.y * b.z;
  if (b.x == 0 || b.y == 0 || b.z == 0 || b.x > 1024 || b.y > 1024 ||
      b.z > 64 || threads > kMaxThreadsPerBlock)
    throw EmulationError("ssprop::emu: invalid block dimensions " +
                         fmtDim(b.x, b.y, b.z) +
                         " (each >= 1, x,y <= 1024, z <= 64, at most 1024 threads)");
  if (g.x == 0 || g.y == 0 || g.z == 0 || g.x > 0x7fffffffu || g.y > 65535 ||
      g.z > 65535)
    throw EmulationError("ssprop::emu: invalid grid dimensions " +
                         fmtDim(g.x, g.y, g.z));

  ensureFibers(static_cast<unsigned>(threads));
  installSignalHandling(*this);
  entry = e;
  params = p;
  grid = g;
  block = b;
  nthreads = static_cast<unsigned>(threads);
  warps.assign((nthreads + 31) / 32, Warp{});
  queue.assign(nthreads, nullptr);
  ++st.launches;

  struct Guard {
    Scheduler &s;
    explicit Guard(Scheduler &sc) : s(sc) {
      s.inLaunch = true;
      gActiveLaunches.fetch_add(1, std::memory_order_relaxed);
    }
    ~Guard() {
      s.inLaunch = false;
      gActiveLaunches.fetch_sub(1, std::memory_order_relaxed);
    }
  } guard(*this);

  for (unsigned z = 0; z < g.z; ++z)
    for (unsigned y = 0; y < g.y; ++y)
      for (unsigned x = 0; x < g.x; ++x)
        runBlock(uint3{x, y, z});
}

const ThreadCtx kHostCtx = {uint3{0, 0, 0}, uint3{0, 0, 0}, dim3(1, 1, 1),
                            dim3(1, 1, 1), 0, 0, 0};

} // namespace

//===----------------------------------------------------------------------===//
// Exported interface
//===----------------------------------------------------------------------===//

const ThreadCtx &current() noexcept {
  Scheduler *s = tlSched;
  return s && s->cur ? s->cur->ctx : kHostCtx;
}

void launchKernel(KernelEntry entry, dim3 grid, dim3 block, void **params) {
  scheduler().launch(entry, grid, block, params);
}

void setFiberStackSize(std::size_t bytes) {
  Scheduler &s = scheduler();
  if (s.inLaunch)
    throw EmulationError("ssprop::emu: setFiberStackSize called inside a kernel");
  s.stackSize = std::max<std::size_t>(bytes, 4096);
}

std::size_t fiberStackSize() { return scheduler().stackSize; }

void setSwitchMethod(SwitchMethod method) {
  Scheduler &s = scheduler();
  if (s.inLaunch)
    throw EmulationError("ssprop::emu: setSwitchMethod called inside a kernel");
  if (s.method != method) {
    s.method = method;
    for (auto &f : s.fibers) // saved contexts are in the other format
      f->resumable = false;
  }
}

Stats stats() { return scheduler().st; }
void resetStats() { scheduler().st = Stats{}; }

namespace detail {

int syncThreads(BarrierOp op, int pred, const char *file, int line) {
  Scheduler *s = tlSched;
  if (!s || !s->cur) // host code: a single thread
    return op == BarrierOp::Count ? (pred != 0) : op == BarrierOp::Plain ? 0 : (pred != 0);
  return s->syncThreads(op, pred, file, line);
}

std::uint64_t warpOp(WarpOp op, unsigned mask, std::uint64_t value, int param,
                     int width, const char *file, int line) {
  Scheduler *s = tlSched;
  if (!s || !s->cur) { // host code: a warp of one lane 0
    switch (op) {
    case WarpOp::Ballot: case WarpOp::MatchAny: case WarpOp::MatchAll:
      return value ? 1u : (op == WarpOp::Ballot ? 0u : 1u);
    case WarpOp::Any: case WarpOp::All: return value != 0;
    default: return value;
    }
  }
  return s->warpOp(op, mask, value, param, width, file, line);
}

unsigned activeMask() noexcept {
  Scheduler *s = tlSched;
  if (!s || !s->cur)
    return 1u;
  return s->warps[s->cur->ctx.warp].live;
}

void trap(const char *what, const char *file, int line) {
  Scheduler *s = tlSched;
  std::string msg = std::string("ssprop::emu: ") + what + where(file, line);
  if (!s || !s->cur)
    throw EmulationError(msg);
  s->fail(msg + " in " + s->blockName() + ", " + Scheduler::threadName(s->cur));
}

} // namespace detail
} // namespace ssprop::emu
