//! Exception handling: `try_table` with its catch clauses, `throw` and
//! `throw_ref`.
//!
//! A call made inside a `try_table` (in this function) is a Cranelift
//! `try_call`, whose exception table lists the catch clauses of every
//! enclosing `try_table`, innermost first, after a context entry holding
//! this function's vmctx. A call that returns normally costs what any call
//! costs: the table is metadata beside the code. The runtime's unwinder
//! (`runtime/src/exceptions.rs`) walks the frames of a throw, reads each
//! call site's table, matches tags by identity through the vmctx of the
//! frame, and resumes at the handler with the exception in the first
//! payload register.
//!
//! ```text
//!  try_table (catch $t $l)          call f ──► try_call f, [ctx vmctx, $t: catch0(exn)]
//!    ...                            catch0(exn): values = exn.values[..]; jump $l(values)
//!  end
//! ```
//!
//! An exception is a `VmExnObject` in the store: its tag's identity and
//! its payload in 16-byte value slots. `throw` allocates one (builtin
//! `exn_new`), writes the payload, and calls the `throw` builtin, which
//! never returns: it resumes at a handler, or ends the wasm call with the
//! uncaught exception as its error. The throw is itself a `try_call` when
//! inside a `try_table`, so a handler in the throwing function is found the
//! same way as one in a caller.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#exceptions>

use cranelift_codegen::ir::{
    self, BlockArg, ExceptionTableData, ExceptionTableItem, ExceptionTag, InstBuilder,
    MemFlagsData, Value,
};
use wasmparser::{Catch, TryTable};

use super::control::FrameKind;
use super::{FuncTranslator, TResult, block_with_params};
use crate::abi::vmoffsets::VALUE_SLOT_BYTES;
use crate::abi::{Builtin, Trap};
use crate::indices::{TagIndex, TypeIndex};

/// The catch clauses of one `try_table` (or legacy `try`), as blocks
/// taking the exception.
#[derive(Debug, Clone)]
pub(crate) struct HandlerScope {
    /// The control-stack index of the frame the clauses belong to.
    frame: usize,
    /// Each clause's tag (`None` for `catch_all`) and its landing block.
    clauses: Vec<(Option<TagIndex>, ir::Block)>,
    /// A `try_table`'s clauses as written, to fill the landing blocks.
    catches: Vec<Catch>,
    /// Whether some call's exception table names the landing blocks. Those
    /// of a scope no call reaches are never filled, so no unreachable
    /// block jumps to a label (Cranelift's unreachable-code pass pays for
    /// each such edge with a scan of the target's predecessors).
    used: bool,
}

impl HandlerScope {
    /// The clauses of the frame at control-stack index `frame`.
    pub(crate) fn new(frame: usize, clauses: Vec<(Option<TagIndex>, ir::Block)>) -> HandlerScope {
        HandlerScope {
            frame,
            clauses,
            catches: Vec::new(),
            used: false,
        }
    }

    /// The control-stack index of the frame the clauses belong to.
    pub(crate) fn frame(&self) -> usize {
        self.frame
    }

    /// Whether some call's exception table names the landing blocks.
    pub(crate) fn used(&self) -> bool {
        self.used
    }
}

impl FuncTranslator<'_, '_> {
    pub(crate) fn visit_try_table(&mut self, try_table: TryTable) -> TResult {
        let (params, results) = self.block_signature(try_table.ty)?;
        let destination = block_with_params(self, &results);
        let has_handlers = self.reachable;
        if has_handlers {
            // Landing blocks are filled at the `end`, once it is known
            // whether any call reaches them.
            let clauses = try_table
                .catches
                .iter()
                .map(|catch| {
                    let block = self.builder.create_block();
                    self.builder.append_block_param(block, self.pointer_type);
                    let tag = match *catch {
                        Catch::One { tag, .. } | Catch::OneRef { tag, .. } => Some(tag),
                        Catch::All { .. } | Catch::AllRef { .. } => None,
                    };
                    (tag.map(TagIndex::from_u32), block)
                })
                .collect();
            let frame = self.control.len();
            let mut scope = HandlerScope::new(frame, clauses);
            scope.catches = try_table.catches;
            self.handlers.push(scope);
        }
        self.push_frame(
            FrameKind::TryTable { has_handlers },
            destination,
            params.len(),
            results.len(),
        );
        Ok(())
    }

    /// Closes a `try_table`'s handler scope at its `end`, where its frame
    /// has just been popped (so labels count from outside it, as its
    /// clauses do) and the current block is finished: no call made after
    /// this can reach its landing blocks, which are filled if one did.
    pub(crate) fn end_try_table(&mut self) {
        let scope = self.handlers.pop().expect("a try_table pushed its scope");
        for (&(_, block), &catch) in scope.clauses.iter().zip(&scope.catches) {
            if scope.used {
                self.fill_landing_block(block, catch);
            }
            self.builder.seal_block(block);
        }
    }

    /// Fills the block a catch clause lands in: it takes the exception,
    /// reloads fuel (the frames that threw spent some), and jumps to the
    /// clause's label with the payload and/or the `exnref`.
    fn fill_landing_block(&mut self, block: ir::Block, catch: Catch) {
        self.builder.switch_to_block(block);
        let exn = self.builder.block_params(block)[0];
        self.fuel_after_catch();
        let (tag, label, with_values, with_ref) = match catch {
            Catch::One { tag, label } => (Some(tag), label, true, false),
            Catch::OneRef { tag, label } => (Some(tag), label, true, true),
            Catch::All { label } => (None, label, false, false),
            Catch::AllRef { label } => (None, label, false, true),
        };
        let tag = tag.map(TagIndex::from_u32);
        let mut args = Vec::new();
        if let (Some(tag), true) = (tag, with_values) {
            args = self.exception_values(tag, exn);
        }
        if with_ref {
            self.mark_escaped(exn);
            args.push(BlockArg::Value(exn));
        } else {
            // Nothing refers to the exception after this clause unless an
            // exnref to it was made earlier: the store may free it.
            self.call_builtin(Builtin::exn_release, &[exn]);
        }
        let (target, _) = self.branch_target(label);
        self.builder.ins().jump(target, &args);
    }

    /// Records that an `exnref` to exception `exn` now exists (sets bit
    /// 0 of its `escaped` flags, keeping the host's pin in bit 1), so no
    /// clause frees it: the collector decides when it is unreachable.
    pub(crate) fn mark_escaped(&mut self, exn: Value) {
        let offset = i32::try_from(self.offsets.exn_object_escaped()).expect("small offset");
        let flags =
            self.builder
                .ins()
                .load(self.pointer_type, MemFlagsData::trusted(), exn, offset);
        let flags = self.builder.ins().bor_imm_u(flags, 1);
        self.builder
            .ins()
            .store(MemFlagsData::trusted(), flags, exn, offset);
    }

    /// The payload of exception `exn`, thrown with `tag`.
    pub(crate) fn exception_values(&mut self, tag: TagIndex, exn: Value) -> Vec<BlockArg> {
        let ptr = self.pointer_type;
        let values = self.load_trusted(ptr, exn, self.offsets.exn_object_values());
        let ty = self.info.tags[tag];
        let params = self.info.types[ty].func().params().to_vec();
        params
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let offset = slot_offset(i);
                let v = self.builder.ins().load(
                    super::ir_type(t, ptr),
                    MemFlagsData::trusted(),
                    values,
                    offset,
                );
                BlockArg::Value(v)
            })
            .collect()
    }

    pub(crate) fn visit_throw(&mut self, tag_index: u32) -> TResult {
        self.note_loop_or_call();
        let tag = TagIndex::from_u32(tag_index);
        let ty: TypeIndex = self.info.tags[tag];
        let n = self.info.types[ty].func().params().len();
        let payload = self.popn(n);
        let tag_arg = self.iconst32(tag_index);
        let exn = self
            .call_builtin(Builtin::exn_new, &[tag_arg])
            .expect("exn_new returns the exception");
        if !payload.is_empty() {
            let ptr = self.pointer_type;
            let values = self.load_trusted(ptr, exn, self.offsets.exn_object_values());
            for (i, v) in payload.into_iter().enumerate() {
                self.builder
                    .ins()
                    .store(MemFlagsData::trusted(), v, values, slot_offset(i));
            }
        }
        self.emit_throw(exn);
        Ok(())
    }

    pub(crate) fn visit_throw_ref(&mut self) -> TResult {
        self.note_loop_or_call();
        let exn = self.pop();
        self.trapz(exn, Trap::NullExceptionReference);
        self.emit_throw(exn);
        Ok(())
    }

    /// Calls the `throw` builtin with `exn`, which never returns; what
    /// follows is unreachable.
    pub(crate) fn emit_throw(&mut self, exn: Value) {
        self.emit_throw_to(exn, self.handlers.len());
    }

    /// As [`emit_throw`](Self::emit_throw), with only the outermost
    /// `scopes` handler scopes of this function in reach (a legacy try
    /// rethrowing past its own clauses, or delegating).
    pub(crate) fn emit_throw_to(&mut self, exn: Value, scopes: usize) {
        self.fuel_before_return();
        let ptr = self.pointer_type;
        let slot = Builtin::throw.index() * self.offsets.pointer_size();
        let table = self.load_vmctx_pure(ptr, self.offsets.vmctx_builtins());
        let callee = self.load_pure(ptr, table, slot);
        let sig = self.throw_signature();
        let args = [self.vmctx, exn];
        if scopes == 0 {
            self.builder.ins().call_indirect(sig, callee, &args);
            self.trap(Trap::UnreachableCodeReached);
        } else {
            let normal = self.builder.create_block();
            let table = self.exception_table_in(sig, normal, &[], scopes);
            self.builder.ins().try_call_indirect(callee, &args, table);
            self.builder.seal_block(normal);
            self.builder.switch_to_block(normal);
            self.trap(Trap::UnreachableCodeReached);
        }
        self.reachable = false;
    }

    /// The exception table of a call inside the current `try_table`s: the
    /// normal return continues in `normal` with the results (`results`
    /// arguments), exceptions land in the innermost matching clause.
    pub(crate) fn exception_table(
        &mut self,
        sig: ir::SigRef,
        normal: ir::Block,
        results: &[ir::Type],
    ) -> ir::ExceptionTable {
        self.exception_table_in(sig, normal, results, self.handlers.len())
    }

    /// As [`exception_table`](Self::exception_table), with only the
    /// outermost `scopes` handler scopes.
    fn exception_table_in(
        &mut self,
        sig: ir::SigRef,
        normal: ir::Block,
        results: &[ir::Type],
        scopes: usize,
    ) -> ir::ExceptionTable {
        let dfg = &mut self.builder.func.dfg;
        let returns: Vec<BlockArg> = (0..results.len())
            .map(|i| BlockArg::TryCallRet(u32::try_from(i).expect("bounded arity")))
            .collect();
        let normal = dfg.block_call(normal, &returns);
        let mut items = vec![ExceptionTableItem::Context(self.vmctx)];
        for scope in &mut self.handlers[..scopes] {
            scope.used = true;
        }
        for scope in self.handlers[..scopes].iter().rev() {
            for &(tag, block) in &scope.clauses {
                let call = dfg.block_call(block, &[BlockArg::TryCallExn(0)]);
                items.push(match tag {
                    Some(tag) => {
                        ExceptionTableItem::Tag(ExceptionTag::from_u32(tag.as_u32()), call)
                    }
                    None => ExceptionTableItem::Default(call),
                });
            }
        }
        let data = ExceptionTableData::new(sig, normal, items);
        dfg.exception_tables.push(data)
    }
}

/// The offset of value slot `i` of an exception's payload.
fn slot_offset(i: usize) -> i32 {
    i32::try_from(i).expect("bounded arity") * VALUE_SLOT_BYTES as i32
}
