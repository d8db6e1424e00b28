//! Execution limits in compiled code: fuel accounting and interrupt
//! (epoch deadline) checks. Both exist only when the tunables ask for them
//! (`Tunables::consume_fuel`, `Tunables::epoch_interruption`), so code
//! compiled without them pays nothing.
//!
//! !!! These checks bound untrusted guests. Changes need a second
//! reviewer. !!!
//!
//! Both are checked at every function entry and every loop header, which
//! no program can avoid: straight-line code between two checks is bounded
//! by the size of one function body, and a call tree without loops passes
//! a function entry at each call.
//!
//! **Fuel.** The store keeps `VmRuntimeLimits::fuel_consumed`, negative
//! while fuel is left. A function loads it into a variable on entry and
//! adds operator costs to the variable (one per operator, none for `nop`,
//! `drop`, `block`, `loop`, `unreachable`, `return`, `else` and `end`: the
//! count wasmtime uses, so figures compare). Costs are summed at
//! translation time and added once per straight-line run, where control
//! leaves it (branches, `if`, `else`, `end`, loop entry, calls). The
//! variable is written back before calls, returns and `unreachable`, and
//! reloaded after calls, so callees and host functions (which may refuel)
//! see the true count. A check is `if fuel >= 0`, whose cold path saves the
//! variable, calls the `out_of_fuel` builtin (which refuels from the
//! store's reserve, if it can), reloads it, and traps with `OutOfFuel` if
//! there is still none. That call preserves every register, so a loop's
//! values stay in whatever registers suit the loop: a call clobbering the
//! platform's caller-saved registers, even one that never runs, would push
//! them into callee-saved registers and stack slots.
//!
//! ```text
//!   entry:  fuel = load limits.fuel_consumed ; check
//!   ...     (costs summed)  fuel += N  at the block's exit
//!   call:   fuel += N ; store fuel ; call ; fuel = load
//!   loop:   fuel += N ; jump header ; header: check
//!   return: fuel += N ; store fuel ; return
//! ```
//!
//! **Tier-up counting.** Fast-tier code compiled in-process (lazy
//! compilation) counts its loop iterations down on its function's counter,
//! whose address it embeds, and calls the runtime's hook, also by embedded
//! address, when a count brings it to zero. (Calls are counted by a prefix
//! the runtime puts before the function, outside its frame.) The addresses are this
//! process's: such code is never stored in an artifact.
//!
//! **Interrupts.** A function that neither loops nor calls runs a bounded
//! number of instructions and its callers check, so its entry check is
//! removed once translation shows it needs none.
//!
//! A check is one byte load from the store's interrupt
//! page, which the runtime keeps readable until the store's epoch deadline
//! passes and then makes inaccessible: the load faults, and the trap table
//! names it `Interrupt`. No compare, no branch. Each check in a function
//! loads from its own offset (below `INTERRUPT_REGION_BYTES`), because
//! Cranelift would otherwise replace a loop header's load with the
//! identical one at the function's entry, which dominates it. (A function
//! with more checks than that region has bytes reuses offsets; a reused
//! one still faults unless an identical load dominates it with no call or
//! store in between, which takes tens of thousands of nested loops.)

use cranelift_codegen::ir::{self, InstBuilder, MemFlagsData, Value, condcodes::IntCC, types};
use cranelift_frontend::Variable;

use super::FuncTranslator;
use super::env::{offset32, trap_code};
use crate::abi::vmoffsets::INTERRUPT_REGION_BYTES;
use crate::abi::{Builtin, Trap};

/// The fuel state of the function being translated.
pub(crate) struct FuelState {
    /// The store's `fuel_consumed`, as of the last flush.
    var: Variable,
    /// Cost of the operators translated since the last flush.
    pending: i64,
}

/// What fuel accounting an operator needs before it is translated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FuelPoint {
    /// Nothing: the operator continues the straight-line run.
    None,
    /// Control leaves the run: add the pending cost to the variable.
    Flush,
    /// Control leaves the function or calls out: add, then write the
    /// variable back to the store.
    FlushAndSave,
}

/// Fuel charged for an operator, by its `wasmparser` name: operators that
/// generate no code of their own are free.
macro_rules! fuel_cost {
    (Nop) => {
        0
    };
    (Drop) => {
        0
    };
    (Block) => {
        0
    };
    (TryTable) => {
        0
    };
    (Try) => {
        0
    };
    (Catch) => {
        0
    };
    (CatchAll) => {
        0
    };
    (Delegate) => {
        0
    };
    (Loop) => {
        0
    };
    (Unreachable) => {
        0
    };
    (Return) => {
        0
    };
    (Else) => {
        0
    };
    (End) => {
        0
    };
    ($other:ident) => {
        1
    };
}
pub(crate) use fuel_cost;

/// The [`FuelPoint`] of an operator, by its `wasmparser` name. `return`
/// only flushes: `emit_return` saves, as every return does.
macro_rules! fuel_point {
    (Unreachable) => {
        $crate::translate::limits::FuelPoint::FlushAndSave
    };
    (Call) => {
        $crate::translate::limits::FuelPoint::FlushAndSave
    };
    (CallIndirect) => {
        $crate::translate::limits::FuelPoint::FlushAndSave
    };
    (CallRef) => {
        $crate::translate::limits::FuelPoint::FlushAndSave
    };
    (Throw) => {
        $crate::translate::limits::FuelPoint::FlushAndSave
    };
    (ThrowRef) => {
        $crate::translate::limits::FuelPoint::FlushAndSave
    };
    (Rethrow) => {
        $crate::translate::limits::FuelPoint::FlushAndSave
    };
    (Catch) => {
        $crate::translate::limits::FuelPoint::Flush
    };
    (CatchAll) => {
        $crate::translate::limits::FuelPoint::Flush
    };
    (Delegate) => {
        $crate::translate::limits::FuelPoint::Flush
    };
    (Return) => {
        $crate::translate::limits::FuelPoint::Flush
    };
    (Loop) => {
        $crate::translate::limits::FuelPoint::Flush
    };
    (If) => {
        $crate::translate::limits::FuelPoint::Flush
    };
    (Else) => {
        $crate::translate::limits::FuelPoint::Flush
    };
    (End) => {
        $crate::translate::limits::FuelPoint::Flush
    };
    (Br) => {
        $crate::translate::limits::FuelPoint::Flush
    };
    (BrIf) => {
        $crate::translate::limits::FuelPoint::Flush
    };
    (BrTable) => {
        $crate::translate::limits::FuelPoint::Flush
    };
    (BrOnNull) => {
        $crate::translate::limits::FuelPoint::Flush
    };
    (BrOnNonNull) => {
        $crate::translate::limits::FuelPoint::Flush
    };
    ($other:ident) => {
        $crate::translate::limits::FuelPoint::None
    };
}
pub(crate) use fuel_point;

/// Whether an operator calls out, so the fuel variable must be reloaded
/// after it (the callee, or a host function, may have changed it).
macro_rules! reloads_fuel_after {
    (Call) => {
        true
    };
    (CallIndirect) => {
        true
    };
    (CallRef) => {
        true
    };
    ($other:ident) => {
        false
    };
}
pub(crate) use reloads_fuel_after;

impl FuncTranslator<'_, '_> {
    /// The checks at function entry: loads the fuel variable and checks
    /// both limits. Called once the entry block is current.
    pub(crate) fn limits_at_function_entry(&mut self) {
        if self.tunables.consume_fuel {
            let var = self.builder.declare_var(types::I64);
            self.fuel = Some(FuelState { var, pending: 0 });
            self.fuel_load();
            self.fuel_check();
        }
        self.interrupt_entry = self.interrupt_check();
    }

    /// The function loops or calls out: it keeps its entry check.
    pub(crate) fn note_loop_or_call(&mut self) {
        self.loops_or_calls = true;
    }

    /// After the body: drops the entry's interrupt check of a function that
    /// neither loops nor calls.
    pub(crate) fn limits_at_function_end(&mut self) {
        if let (Some(check), false) = (self.interrupt_entry.take(), self.loops_or_calls) {
            self.builder.func.layout.remove_inst(check);
        }
    }

    /// The checks at a loop header, which every iteration passes. Called
    /// once the header block is current.
    pub(crate) fn limits_at_loop_header(&mut self) {
        self.fuel_check();
        self.interrupt_check();
        self.count_hotness();
    }

    /// In fast-tier code, at a loop header: calls the tier-up hook if this
    /// count brings the function's counter to zero (it holds 1), then
    /// counts it down by one (below zero it never calls again). Threads
    /// racing on the counter may lose counts, which only delays tier-up.
    /// The counter is read twice and its address made twice, so that no
    /// value lives across the hook's blocks: fast-tier frames give every
    /// cross-block value a stack slot.
    fn count_hotness(&mut self) {
        let Some(hot) = self.hotness else {
            return;
        };
        let flags = MemFlagsData::trusted();
        let counter = self.builder.ins().iconst(types::I64, hot.counter as i64);
        let count = self.builder.ins().load(types::I32, flags, counter, 0);
        let reached = self.builder.ins().icmp_imm_s(IntCC::Equal, count, 1);
        self.cold_path(reached, |tr| {
            let mut signature = ir::Signature::new(tr.isa.default_call_conv());
            signature.params.push(ir::AbiParam::new(types::I64));
            signature.params.push(ir::AbiParam::new(types::I32));
            let signature = tr.builder.import_signature(signature);
            let callee = tr.builder.ins().iconst(types::I64, hot.hook as i64);
            let context = tr.builder.ins().iconst(types::I64, hot.context as i64);
            let index = tr.builder.ins().iconst(types::I32, i64::from(hot.index));
            tr.builder
                .ins()
                .call_indirect(signature, callee, &[context, index]);
        });
        let counter = self.builder.ins().iconst(types::I64, hot.counter as i64);
        let count = self.builder.ins().load(types::I32, flags, counter, 0);
        let count = self.builder.ins().iadd_imm_s(count, -1);
        self.builder.ins().store(flags, count, counter, 0);
    }

    /// Accounts for an operator about to be translated in reachable code.
    pub(crate) fn fuel_before_op(&mut self, cost: i64, point: FuelPoint) {
        let Some(fuel) = &mut self.fuel else {
            return;
        };
        fuel.pending += cost;
        match point {
            FuelPoint::None => {}
            FuelPoint::Flush => self.fuel_flush(),
            FuelPoint::FlushAndSave => {
                self.fuel_flush();
                self.fuel_save();
            }
        }
    }

    /// After a call: the callee may have consumed or refuelled.
    pub(crate) fn fuel_after_call(&mut self) {
        if self.fuel.is_some() && self.reachable {
            self.fuel_load();
        }
    }

    /// In a catch clause's landing block: the frames that threw spent fuel
    /// and saved the count to the store.
    pub(crate) fn fuel_after_catch(&mut self) {
        if self.fuel.is_some() {
            self.fuel_load();
        }
    }

    /// Before any return: the store must hold the final count.
    pub(crate) fn fuel_before_return(&mut self) {
        if self.fuel.is_some() {
            self.fuel_flush();
            self.fuel_save();
        }
    }

    /// The store's `VmRuntimeLimits` (a pure load: it never changes).
    pub(crate) fn runtime_limits(&mut self) -> ir::Value {
        self.load_vmctx_pure(self.pointer_type, self.offsets.vmctx_runtime_limits())
    }

    /// Adds the pending cost to the fuel variable.
    fn fuel_flush(&mut self) {
        let Some(fuel) = &mut self.fuel else {
            return;
        };
        let (var, cost) = (fuel.var, std::mem::take(&mut fuel.pending));
        if cost != 0 {
            let value = self.builder.use_var(var);
            let value = self.builder.ins().iadd_imm_s(value, cost);
            self.builder.def_var(var, value);
        }
    }

    /// Reads the store's fuel into the variable.
    fn fuel_load(&mut self) {
        let Some(fuel) = &self.fuel else {
            return;
        };
        let var = fuel.var;
        let limits = self.runtime_limits();
        let offset = self.offsets.runtime_limits_fuel_consumed();
        let value = self.load_trusted(types::I64, limits, offset);
        self.builder.def_var(var, value);
    }

    /// Writes the variable back to the store.
    fn fuel_save(&mut self) {
        let Some(fuel) = &self.fuel else {
            return;
        };
        let var = fuel.var;
        let value = self.builder.use_var(var);
        let limits = self.runtime_limits();
        let offset = offset32(self.offsets.runtime_limits_fuel_consumed());
        self.builder
            .ins()
            .store(MemFlagsData::trusted(), value, limits, offset);
    }

    /// `if fuel >= 0 { save; out_of_fuel(); reload; trap if fuel >= 0 }`.
    fn fuel_check(&mut self) {
        let Some(fuel) = &self.fuel else {
            return;
        };
        let var = fuel.var;
        self.fuel_flush();
        let exhausted = self.fuel_exhausted(var);
        self.cold_path(exhausted, |tr| {
            tr.fuel_save();
            tr.call_builtin(Builtin::out_of_fuel, &[]);
            tr.fuel_load();
            let still = tr.fuel_exhausted(var);
            tr.trapnz(still, Trap::OutOfFuel);
        });
    }

    /// Whether the fuel counter in `var` has run out (reached zero from
    /// below).
    fn fuel_exhausted(&mut self, var: Variable) -> Value {
        let value = self.builder.use_var(var);
        self.builder
            .ins()
            .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, value, 0)
    }

    /// One load from the store's interrupt page, which faults (as an
    /// `Interrupt` trap) once the store's deadline has passed.
    fn interrupt_check(&mut self) -> Option<ir::Inst> {
        if !self.tunables.epoch_interruption {
            return None;
        }
        let limits = self.runtime_limits();
        let page = self.load_pure(
            self.pointer_type,
            limits,
            self.offsets.runtime_limits_interrupt_page(),
        );
        let offset = self.interrupt_checks % INTERRUPT_REGION_BYTES;
        self.interrupt_checks += 1;
        let flags = MemFlagsData::new()
            .with_aligned()
            .with_trap_code(Some(trap_code(Trap::Interrupt)));
        let value = self
            .builder
            .ins()
            .load(types::I8, flags, page, offset32(offset));
        self.builder.func.dfg.value_def(value).inst()
    }
}
