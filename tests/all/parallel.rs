//! A module large enough to be compiled on several threads compiles to the
//! same behaviour as function-by-function.

use cljit::{Instance, Module, Store};

use crate::engine;

#[test]
fn many_functions_compile_in_parallel_and_link_correctly() {
    let mut wat = String::from("(module\n");
    for i in 0..400 {
        // Each function calls the previous one, so cross-function
        // relocations are exercised across threads' output.
        let body = if i == 0 {
            "(i32.const 1)".to_string()
        } else {
            format!("(i32.add (call $f{}) (i32.const 1))", i - 1)
        };
        wat.push_str(&format!(
            "(func $f{i} (export \"f{i}\") (result i32) (local i32 i32 i32) {body} \
             (local.set 0) (local.set 1 (i32.mul (local.get 0) (i32.const 3))) \
             (local.set 2 (i32.sub (local.get 1) (local.get 0))) \
             (i32.sub (local.get 2) (local.get 0)))\n"
        ));
    }
    wat.push(')');
    let binary = wat::parse_str(&wat).unwrap();
    assert!(
        binary.len() > 16 * 1024,
        "large enough to take the parallel path"
    );
    let engine = engine(false);
    let module = Module::new(&engine, &binary).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    for i in [0, 1, 199, 399] {
        let f = instance
            .get_typed_func::<(), i32>(&store, &format!("f{i}"))
            .unwrap();
        assert_eq!(f.call(&mut store, ()).unwrap(), i + 1);
    }
}
