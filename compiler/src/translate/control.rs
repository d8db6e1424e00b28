//! Structured control flow: `block`, `loop`, `if`/`else`, `end`, branches,
//! `return`, `unreachable` and `nop`.
//!
//! Every construct gets a `destination` block whose parameters are the
//! construct's results; a loop also gets a `header` block whose parameters are
//! its inputs (the target of backward branches). An `if` gets an `else` block
//! with the construct's parameters even when the source has no `else`: that
//! block then just forwards its parameters to the destination (validation
//! guarantees parameters and results agree in that case).
//!
//! In unreachable code only `block`/`loop`/`if`/`else`/`end` run, to keep the
//! control stack in step; the operand stack is then meaningless, so frames
//! entered there use saturating arithmetic and are never read from.
//!
//! Spec: <https://webassembly.github.io/spec/core/exec/instructions.html#control-instructions>

use cranelift_codegen::ir::{Block, BlockArg, InstBuilder, JumpTableData, Value};
use wasmparser::{BlockType, BrTable};

use super::{FuncTranslator, TResult, block_with_params, emit_return};
use crate::abi::Trap;
use crate::indices::TypeIndex;
use crate::module_info::val_type;
use crate::types::ValType;

/// Parameter and result types of a block, or why they could not be read.
type TResultTypes = crate::error::CompileResult<(Vec<ValType>, Vec<ValType>)>;

/// What kind of construct a frame is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FrameKind {
    /// A `block`, or the function body.
    Block,
    /// A `loop`: branches go back to `header`.
    Loop {
        /// The loop's first block, whose parameters are the loop's inputs.
        header: Block,
    },
    /// A `try_table`: a block whose catch clauses apply to the calls in
    /// it (see `exceptions.rs`).
    TryTable {
        /// Whether it pushed a handler scope (it was reachable).
        has_handlers: bool,
    },
    /// A legacy `try` (see `legacy_exceptions.rs`).
    LegacyTry {
        /// Its entry in the translator's legacy try list.
        index: usize,
        /// Whether a `catch` or `catch_all` was seen (the body is over).
        catching: bool,
    },
    /// An `if`, with its else block.
    If {
        /// Where the false branch goes; parameters are the `if`'s inputs.
        else_block: Block,
        /// Whether an `else` was seen.
        saw_else: bool,
        /// Whether the `if` itself was reachable.
        head_reachable: bool,
    },
}

/// One entry of the control stack.
#[derive(Debug, Clone)]
pub(crate) struct ControlFrame {
    pub(crate) kind: FrameKind,
    /// The block after `end`; its parameters are the results.
    pub(crate) destination: Block,
    pub(crate) num_params: usize,
    pub(crate) num_results: usize,
    /// Operand stack height below the construct's parameters.
    pub(crate) original_stack_size: usize,
    /// Whether some reachable branch targets `destination`.
    pub(crate) exit_is_branched_to: bool,
}

impl ControlFrame {
    /// The frame of the function body, whose destination is the exit block.
    pub(crate) fn function_body(exit: Block, num_results: usize) -> ControlFrame {
        ControlFrame {
            kind: FrameKind::Block,
            destination: exit,
            num_params: 0,
            num_results,
            original_stack_size: 0,
            exit_is_branched_to: false,
        }
    }
}

pub(crate) fn block_args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|&v| BlockArg::Value(v)).collect()
}

impl FuncTranslator<'_, '_> {
    /// The parameter and result types of a block type.
    pub(crate) fn block_signature(&self, ty: BlockType) -> TResultTypes {
        match ty {
            BlockType::Empty => Ok((Vec::new(), Vec::new())),
            BlockType::Type(t) => Ok((
                Vec::new(),
                vec![val_type(t, 0, &|i| self.info.type_kind(i))?],
            )),
            BlockType::FuncType(index) => {
                let ft = self.info.types[TypeIndex::from_u32(index)].func();
                Ok((ft.params().to_vec(), ft.results().to_vec()))
            }
        }
    }

    /// Pushes the frame of a construct with `num_params` inputs (already on
    /// the operand stack, unless unreachable) and `num_results` outputs.
    ///
    /// In unreachable code the stack is polymorphic: a construct may take
    /// more inputs than the enclosing one has pushed. Its base then stops at
    /// the enclosing frame's, so that its `end` never truncates values the
    /// enclosing frames still own (and later, reachable, code uses).
    pub(crate) fn push_frame(
        &mut self,
        kind: FrameKind,
        destination: Block,
        num_params: usize,
        num_results: usize,
    ) {
        let floor = self.control.last().map_or(0, |f| f.original_stack_size);
        self.control.push(ControlFrame {
            kind,
            destination,
            num_params,
            num_results,
            original_stack_size: self.stack.len().saturating_sub(num_params).max(floor),
            exit_is_branched_to: false,
        });
    }

    /// Jumps to `block` with arguments.
    pub(crate) fn jump_with(&mut self, block: Block, args: &[Value]) {
        let args = block_args(args);
        self.builder.ins().jump(block, &args);
    }

    /// The branch target of relative depth `depth` and its argument count,
    /// marking a forward target as branched to.
    pub(crate) fn branch_target(&mut self, depth: u32) -> (Block, usize) {
        let i = self.control.len() - 1 - depth as usize;
        let frame = &mut self.control[i];
        match frame.kind {
            FrameKind::Loop { header } => (header, frame.num_params),
            _ => {
                frame.exit_is_branched_to = true;
                (frame.destination, frame.num_results)
            }
        }
    }

    pub(crate) fn visit_nop(&mut self) -> TResult {
        Ok(())
    }

    pub(crate) fn visit_unreachable(&mut self) -> TResult {
        self.trap(Trap::UnreachableCodeReached);
        self.reachable = false;
        Ok(())
    }

    pub(crate) fn visit_block(&mut self, blockty: BlockType) -> TResult {
        let (params, results) = self.block_signature(blockty)?;
        let destination = block_with_params(self, &results);
        self.push_frame(FrameKind::Block, destination, params.len(), results.len());
        Ok(())
    }

    pub(crate) fn visit_loop(&mut self, blockty: BlockType) -> TResult {
        self.note_loop_or_call();
        let (params, results) = self.block_signature(blockty)?;
        let header = block_with_params(self, &params);
        let destination = block_with_params(self, &results);
        if self.reachable {
            // The inputs are replaced by the header's parameters: the stack
            // height is unchanged.
            let args = self.popn(params.len());
            self.jump_with(header, &args);
            self.builder.switch_to_block(header);
            let header_params = self.builder.block_params(header).to_vec();
            self.stack.extend(header_params);
            self.limits_at_loop_header();
        }
        let kind = FrameKind::Loop { header };
        self.push_frame(kind, destination, params.len(), results.len());
        Ok(())
    }

    pub(crate) fn visit_if(&mut self, blockty: BlockType) -> TResult {
        let (params, results) = self.block_signature(blockty)?;
        let head_reachable = self.reachable;
        let else_block = block_with_params(self, &params);
        let destination = block_with_params(self, &results);
        if head_reachable {
            let cond = self.pop();
            let then_block = self.builder.create_block();
            let args = block_args(self.peekn(params.len()));
            self.builder
                .ins()
                .brif(cond, then_block, &[], else_block, &args);
            self.builder.seal_block(then_block);
            self.builder.seal_block(else_block);
            self.builder.switch_to_block(then_block);
        }
        let kind = FrameKind::If {
            else_block,
            saw_else: false,
            head_reachable,
        };
        self.push_frame(kind, destination, params.len(), results.len());
        Ok(())
    }

    pub(crate) fn visit_else(&mut self) -> TResult {
        let reachable = self.reachable;
        let top = self.control.len() - 1;
        let (destination, num_results, original) = {
            let f = &self.control[top];
            (f.destination, f.num_results, f.original_stack_size)
        };
        if reachable {
            let results = self.peekn(num_results).to_vec();
            self.jump_with(destination, &results);
            self.control[top].exit_is_branched_to = true;
        }
        self.stack.truncate(original);
        let FrameKind::If {
            else_block,
            head_reachable,
            ref mut saw_else,
        } = self.control[top].kind
        else {
            unreachable!("validated: else without if");
        };
        *saw_else = true;
        self.reachable = head_reachable;
        if head_reachable {
            self.builder.switch_to_block(else_block);
            let params = self.builder.block_params(else_block).to_vec();
            self.stack.extend(params);
        }
        Ok(())
    }

    pub(crate) fn visit_end(&mut self) -> TResult {
        let top = self.control.len() - 1;
        if let FrameKind::LegacyTry { .. } = self.control[top].kind {
            self.end_legacy_try(top, None);
        }
        let frame = self.control.pop().expect("validated: end without frame");
        let mut destination_reached = frame.exit_is_branched_to;
        if self.reachable {
            let results = self.peekn(frame.num_results).to_vec();
            self.jump_with(frame.destination, &results);
            destination_reached = true;
        }
        match frame.kind {
            FrameKind::If {
                else_block,
                saw_else: false,
                head_reachable: true,
            } => {
                // No `else`: the false branch forwards the parameters.
                self.builder.switch_to_block(else_block);
                let params = self.builder.block_params(else_block).to_vec();
                self.jump_with(frame.destination, &params);
                destination_reached = true;
            }
            FrameKind::Loop { header } => self.builder.seal_block(header),
            FrameKind::TryTable { has_handlers: true } => self.end_try_table(),
            _ => {}
        }
        self.builder.switch_to_block(frame.destination);
        self.builder.seal_block(frame.destination);
        self.stack.truncate(frame.original_stack_size);
        let results = self.builder.block_params(frame.destination).to_vec();
        self.stack.extend(results);
        self.reachable = destination_reached;

        if self.control.is_empty() && self.reachable {
            let results = self.stack.clone();
            emit_return(self, &results);
            self.reachable = false;
        }
        Ok(())
    }

    pub(crate) fn visit_br(&mut self, relative_depth: u32) -> TResult {
        let (target, n) = self.branch_target(relative_depth);
        let args = self.peekn(n).to_vec();
        self.jump_with(target, &args);
        self.reachable = false;
        Ok(())
    }

    pub(crate) fn visit_br_if(&mut self, relative_depth: u32) -> TResult {
        let cond = self.pop();
        let (target, n) = self.branch_target(relative_depth);
        let args = block_args(self.peekn(n));
        let next = self.builder.create_block();
        self.builder.ins().brif(cond, target, &args, next, &[]);
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
        Ok(())
    }

    /// `br_on_null`: branches (without the reference) when it is null, and
    /// otherwise continues with it.
    pub(crate) fn visit_br_on_null(&mut self, relative_depth: u32) -> TResult {
        let reference = self.pop();
        let (target, n) = self.branch_target(relative_depth);
        let args = block_args(self.peekn(n));
        let next = self.builder.create_block();
        self.builder.ins().brif(reference, next, &[], target, &args);
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
        self.push(reference);
        Ok(())
    }

    /// `br_on_non_null`: branches with the reference when it is not null,
    /// and otherwise drops it and continues.
    pub(crate) fn visit_br_on_non_null(&mut self, relative_depth: u32) -> TResult {
        // The reference is the last of the target's arguments.
        let (target, n) = self.branch_target(relative_depth);
        let args = block_args(self.peekn(n));
        let reference = self.pop();
        let next = self.builder.create_block();
        self.builder.ins().brif(reference, target, &args, next, &[]);
        self.builder.seal_block(next);
        self.builder.switch_to_block(next);
        Ok(())
    }

    pub(crate) fn visit_br_table(&mut self, targets: BrTable<'_>) -> TResult {
        let index = self.pop();
        let mut depths = Vec::with_capacity(targets.len() as usize);
        for depth in targets.targets() {
            depths.push(depth?);
        }
        let default = targets.default();
        let (_, arity) = self.branch_target(default);
        let args = self.peekn(arity).to_vec();

        // Blocks reached by the jump table. When the targets take arguments,
        // each distinct depth gets a small block that jumps on with them,
        // since a jump table carries no arguments.
        let mut edge_for_depth = std::collections::HashMap::new();
        let mut edges = Vec::new();
        let mut resolved = Vec::with_capacity(depths.len() + 1);
        for depth in depths.iter().copied().chain([default]) {
            let (target, _) = self.branch_target(depth);
            let block = if arity == 0 {
                target
            } else if let Some(&edge) = edge_for_depth.get(&depth) {
                edge
            } else {
                let edge = self.builder.create_block();
                edge_for_depth.insert(depth, edge);
                edges.push((edge, target));
                edge
            };
            resolved.push(block);
        }
        let default_block = resolved.pop().expect("default target pushed last");
        let table_blocks = resolved;

        let dfg = &mut self.builder.func.dfg;
        let default_call = dfg.block_call(default_block, &[]);
        let calls: Vec<_> = table_blocks
            .iter()
            .map(|&b| dfg.block_call(b, &[]))
            .collect();
        let jt = self
            .builder
            .create_jump_table(JumpTableData::new(default_call, &calls));
        self.builder.ins().br_table(index, jt);

        for (edge, target) in edges {
            self.builder.seal_block(edge);
            self.builder.switch_to_block(edge);
            self.jump_with(target, &args);
        }
        self.reachable = false;
        Ok(())
    }

    pub(crate) fn visit_return(&mut self) -> TResult {
        let n = self.control[0].num_results;
        let results = self.peekn(n).to_vec();
        emit_return(self, &results);
        self.reachable = false;
        Ok(())
    }
}
