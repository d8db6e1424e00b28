//! The legacy exception instructions older Emscripten builds emit: `try`,
//! `catch`, `catch_all`, `delegate` and `rethrow` (behind
//! `-W legacy-exceptions=y`; wasmtime has no such switch, V8 does).
//!
//! They run on the machinery of `try_table` (see `exceptions.rs`). A `try`
//! pushes a handler scope with one catch-all clause landing in the try's
//! own landing block, since its real clauses come only after its body;
//! when the try ends (`end` or `delegate`) the landing block is filled:
//!
//! - with clauses, it compares the exception's tag with each clause's tag
//!   (through the vmctx, by identity) and jumps to the first match's code
//!   with the payload and the exception, or rethrows to the handlers
//!   outside the try when nothing matches and there is no `catch_all`;
//! - with `delegate $l`, it rethrows to the handlers of the frame `$l`
//!   names and those outside it;
//! - with neither, it rethrows to the handlers outside.
//!
//! The code of a clause is an ordinary block whose parameters are the
//! payload and the exception (kept in a variable for `rethrow`); calls in
//! it are outside the try's scope, as the spec says.
//!
//! Spec: <https://github.com/WebAssembly/exception-handling/blob/main/proposals/exception-handling/legacy/Exceptions.md>

use cranelift_codegen::ir::{self, BlockArg, InstBuilder, condcodes::IntCC};
use cranelift_frontend::Variable;
use wasmparser::BlockType;

use super::control::FrameKind;
use super::exceptions::HandlerScope;
use super::{FuncTranslator, TResult, block_with_params};
use crate::indices::TagIndex;

/// A legacy `try` being translated.
#[derive(Debug)]
pub(crate) struct LegacyTry {
    /// Where every exception of the try's body lands (if it was reachable).
    landing: Option<ir::Block>,
    /// How many handler scopes enclose the try.
    outside: usize,
    /// The catch clauses seen so far: their tag (`None` for `catch_all`)
    /// and code block.
    clauses: Vec<(Option<TagIndex>, ir::Block)>,
    /// The exception a clause is handling, for `rethrow`.
    exn: Variable,
    /// Whether some call's exception table names the landing block.
    used: bool,
}

impl FuncTranslator<'_, '_> {
    pub(crate) fn visit_try(&mut self, blockty: BlockType) -> TResult {
        let (params, results) = self.block_signature(blockty)?;
        let destination = block_with_params(self, &results);
        let outside = self.handlers.len();
        let landing = if self.reachable {
            let landing = self.builder.create_block();
            self.builder.append_block_param(landing, self.pointer_type);
            self.handlers
                .push(HandlerScope::new(self.control.len(), vec![(None, landing)]));
            Some(landing)
        } else {
            None
        };
        let exn = self.builder.declare_var(self.pointer_type);
        let index = self.legacy.len();
        self.legacy.push(LegacyTry {
            landing,
            outside,
            clauses: Vec::new(),
            exn,
            used: false,
        });
        self.push_frame(
            FrameKind::LegacyTry {
                index,
                catching: false,
            },
            destination,
            params.len(),
            results.len(),
        );
        Ok(())
    }

    pub(crate) fn visit_catch(&mut self, tag_index: u32) -> TResult {
        self.begin_clause(Some(TagIndex::from_u32(tag_index)));
        Ok(())
    }

    pub(crate) fn visit_catch_all(&mut self) -> TResult {
        self.begin_clause(None);
        Ok(())
    }

    /// Ends the try's body or previous clause and starts a clause's code,
    /// with the payload (for a tag) on the operand stack.
    fn begin_clause(&mut self, tag: Option<TagIndex>) {
        let top = self.control.len() - 1;
        let (destination, num_results, original) = {
            let f = &self.control[top];
            (f.destination, f.num_results, f.original_stack_size)
        };
        if self.reachable {
            let results = self.peekn(num_results).to_vec();
            self.jump_with(destination, &results);
            self.control[top].exit_is_branched_to = true;
        }
        self.stack.truncate(original);
        let FrameKind::LegacyTry {
            index,
            ref mut catching,
        } = self.control[top].kind
        else {
            unreachable!("validated: catch without try");
        };
        let landing = self.legacy[index].landing;
        if !*catching {
            *catching = true;
            if landing.is_some() {
                // The clauses' code is not covered by the try's handler.
                let scope = self.handlers.pop().expect("the try's scope");
                self.legacy[index].used = scope.used();
            }
        }
        let Some(_) = landing else {
            self.reachable = false;
            return;
        };
        let ptr = self.pointer_type;
        let block = self.builder.create_block();
        let mut values = Vec::new();
        if let Some(tag) = tag {
            let ty = self.info.tags[tag];
            for &p in self.info.types[ty].func().params() {
                let v = self
                    .builder
                    .append_block_param(block, super::ir_type(p, ptr));
                values.push(v);
            }
        }
        let exn = self.builder.append_block_param(block, ptr);
        self.builder.switch_to_block(block);
        self.builder.def_var(self.legacy[index].exn, exn);
        self.stack.extend(values);
        self.legacy[index].clauses.push((tag, block));
        self.reachable = true;
    }

    pub(crate) fn visit_rethrow(&mut self, relative_depth: u32) -> TResult {
        self.note_loop_or_call();
        let frame = self.control.len() - 1 - relative_depth as usize;
        let FrameKind::LegacyTry { index, .. } = self.control[frame].kind else {
            unreachable!("validated: rethrow targets a catch");
        };
        let exn = self.builder.use_var(self.legacy[index].exn);
        self.emit_throw(exn);
        Ok(())
    }

    pub(crate) fn visit_delegate(&mut self, relative_depth: u32) -> TResult {
        // Like `end`, then the body's exceptions go to the handlers of the
        // frame `relative_depth` names (counted outside the try) and out.
        let frame = self.control.len() - 1;
        let target = frame - 1 - relative_depth as usize;
        let scopes = self
            .handlers
            .iter()
            .take_while(|s| s.frame() <= target)
            .count();
        self.end_legacy_try(frame, Some(scopes));
        self.visit_end()
    }

    /// Fills the landing block of the legacy try whose frame is at
    /// `frame`, as the try ends: with its clauses' dispatch, or a rethrow
    /// to the first `delegate_scopes` handler scopes for `delegate`. Run
    /// before the frame's `end`, while the current block is filled (or
    /// empty).
    pub(crate) fn end_legacy_try(&mut self, frame: usize, delegate_scopes: Option<usize>) {
        let FrameKind::LegacyTry { index, catching } = self.control[frame].kind else {
            unreachable!("a legacy try frame");
        };
        // Taken, so `delegate` (which ends the frame itself) and the `end`
        // it then runs fill the landing block once.
        let Some(landing) = self.legacy[index].landing.take() else {
            return;
        };
        if !catching {
            let scope = self.handlers.pop().expect("the try's scope");
            self.legacy[index].used = scope.used();
        }
        // The current block must end before another is started.
        if self.reachable {
            let (destination, n) = {
                let f = &mut self.control[frame];
                f.exit_is_branched_to = true;
                (f.destination, f.num_results)
            };
            let results = self.peekn(n).to_vec();
            self.jump_with(destination, &results);
            self.reachable = false;
        }
        let clauses = std::mem::take(&mut self.legacy[index].clauses);
        if !self.legacy[index].used {
            // No call reaches the landing block, so no clause runs.
            self.builder.seal_block(landing);
            for (_, code) in clauses {
                self.builder.seal_block(code);
            }
            return;
        }
        let outside = delegate_scopes.unwrap_or(self.legacy[index].outside);
        self.builder.switch_to_block(landing);
        self.fuel_after_catch();
        let exn = self.builder.block_params(landing)[0];
        // A clause's code keeps the exception for `rethrow`.
        self.mark_escaped(exn);
        let ptr = self.pointer_type;
        let thrown = self.load_trusted(ptr, exn, self.offsets.exn_object_tag());
        let mut caught_all = false;
        for &(tag, code) in &clauses {
            let Some(tag) = tag else {
                self.builder.ins().jump(code, &[BlockArg::Value(exn)]);
                caught_all = true;
                break;
            };
            let offset = self.offsets.vmctx_tag(tag.as_u32());
            let ours = self.load_vmctx_pure(ptr, offset);
            let same = self.builder.ins().icmp(IntCC::Equal, thrown, ours);
            let hit = self.builder.create_block();
            let next = self.builder.create_block();
            self.builder.ins().brif(same, hit, &[], next, &[]);
            self.builder.seal_block(hit);
            self.builder.seal_block(next);
            self.builder.switch_to_block(hit);
            let mut args = self.exception_values(tag, exn);
            args.push(BlockArg::Value(exn));
            self.builder.ins().jump(code, &args);
            self.builder.switch_to_block(next);
        }
        if !caught_all {
            self.emit_throw_to(exn, outside);
        }
        self.builder.seal_block(landing);
        for (_, code) in clauses {
            self.builder.seal_block(code);
        }
    }
}
