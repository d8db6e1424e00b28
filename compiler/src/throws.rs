//! Which functions of a module may throw a wasm exception, so calls to the
//! others need no exception table even inside a `try_table`.
//!
//! A call made with a Cranelift `try_call` spills every value live across
//! it (the `tail` convention's exceptional edge clobbers all registers),
//! so a call that cannot throw is better made as a plain call. A defined
//! function may throw if its body throws (`throw`, `throw_ref`,
//! `rethrow`), calls an import or calls indirectly (the callee is not
//! known), or calls a defined function that may throw; imports may always
//! throw. The answer is a fixed point over the direct calls. Modules that
//! declare and import no tag skip the scan: nothing in them throws, but
//! their imports may, so every call keeps its table.
//!
//! Traps are not exceptions: a function that only traps "cannot throw".

use wasmparser::{FunctionBody, Operator};

use crate::error::CompileResult;
use crate::module_info::ModuleInfo;

/// For every function (imports first), whether a call to it may throw.
pub(crate) fn may_throw(
    info: &ModuleInfo,
    bodies: &[&FunctionBody<'_>],
) -> CompileResult<Vec<bool>> {
    let imported = info.num_imported_funcs as usize;
    let total = info.functions.len();
    if info.tags.is_empty() {
        return Ok(vec![true; total]);
    }
    let mut throws = vec![true; imported];
    throws.resize(total, false);
    // callers[f]: the defined functions that call f directly.
    let mut callers: Vec<Vec<u32>> = vec![Vec::new(); total];
    for (def, body) in bodies.iter().enumerate() {
        let me = imported + def;
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            match reader.read()? {
                Operator::Throw { .. }
                | Operator::ThrowRef
                | Operator::Rethrow { .. }
                | Operator::CallIndirect { .. }
                | Operator::ReturnCallIndirect { .. }
                | Operator::CallRef { .. }
                | Operator::ReturnCallRef { .. } => throws[me] = true,
                Operator::Call { function_index } | Operator::ReturnCall { function_index } => {
                    // An index out of range is the validator's to refuse.
                    if let Some(list) = callers.get_mut(function_index as usize) {
                        list.push(u32::try_from(me).expect("bounded function count"));
                    }
                }
                _ => {}
            }
        }
    }
    // Spread "may throw" from callees to callers.
    let mut work: Vec<usize> = (0..total).filter(|&f| throws[f]).collect();
    while let Some(f) = work.pop() {
        for &caller in &callers[f] {
            let caller = caller as usize;
            if !throws[caller] {
                throws[caller] = true;
                work.push(caller);
            }
        }
    }
    Ok(throws)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::default_features;
    use crate::module_info::parse;

    fn analyse(wat: &str) -> Vec<bool> {
        let wasm = wat::parse_str(wat).unwrap();
        let parsed = parse(&wasm, default_features()).unwrap();
        let bodies: Vec<_> = parsed.bodies.iter().map(|b| &b.body).collect();
        may_throw(&parsed.info, &bodies).unwrap()
    }

    #[test]
    fn throwing_spreads_to_callers_only() {
        let throws = analyse(
            r#"(module
                (import "env" "host" (func $host))
                (tag $e)
                (type $t (func))
                (table 1 funcref)
                (func $leaf (result i32) (i32.const 1))
                (func $calls_leaf (drop (call $leaf)))
                (func $thrower (throw $e))
                (func $calls_thrower (call $thrower))
                (func $tail_to_thrower (return_call $calls_thrower))
                (func $indirect (call_indirect (type $t) (i32.const 0)))
                (func $calls_host (call $host))
                (func $recursive (call $recursive)))"#,
        );
        assert_eq!(
            throws,
            [true, false, false, true, true, true, true, true, false],
            "import, leaf, calls_leaf, thrower, calls_thrower, tail_to_thrower, \
             indirect, calls_host, recursive"
        );
        // Without tags nothing is analysed: every call may throw (an
        // import's exception can pass through).
        let throws = analyse("(module (func (result i32) (i32.const 1)) (func))");
        assert_eq!(throws, [true, true]);
    }
}
