//! Host tests: the parsers on good and bad lines, the views, the generated
//! code (down to compiling it), and facts about the real tables.

use crate::*;

fn table(src: &str) -> Vec<Row> {
    parse_table(src, "t.tbl").unwrap_or_else(|e| panic!("{e}"))
}

fn table_error(src: &str) -> String {
    parse_table(src, "t.tbl").expect_err(src).to_string()
}

fn routes(table: &[Row], src: &str) -> Vec<Route> {
    parse_routes(src, "r.tbl", table).unwrap_or_else(|e| panic!("{e}"))
}

fn routes_error(table: &[Row], src: &str) -> String {
    parse_routes(src, "r.tbl", table)
        .expect_err(src)
        .to_string()
}

/// Each case is `<source> => <start of the expected message>`.
fn check_errors(cases: &[&str], error: impl Fn(&str) -> String) {
    for case in cases {
        let (src, expected) = case.split_once(" => ").expect("a case is `src => message`");
        let message = error(src);
        assert!(
            message.starts_with(expected),
            "{src:?}: got {message:?}, wanted {expected:?}"
        );
    }
}

const SMALL: &str = "\
# comment
0\tcommon\tread\t\tsys_read
1 common write sys_write # trailing comment

13\t64\trt_sigaction\tsys_rt_sigaction
134\t64\tuselib
60 common exit sys_exit -
512\tx32\trt_sigaction\tcompat_sys_rt_sigaction
";

#[test]
fn parses_good_lines() {
    let rows = table(SMALL);
    let read = Row {
        line: 2,
        number: 0,
        abi: Abi::Common,
        name: "read".into(),
        entry: Some("sys_read".into()),
        compat_entry: None,
    };
    assert_eq!(rows[0], read);
    let summary: Vec<_> = rows
        .iter()
        .map(|r| (r.line, r.number, r.abi, r.name.as_str(), r.entry.as_deref()))
        .collect();
    assert_eq!(
        summary[1..],
        [
            (3, 1, Abi::Common, "write", Some("sys_write")),
            (5, 13, Abi::X64, "rt_sigaction", Some("sys_rt_sigaction")),
            (6, 134, Abi::X64, "uselib", None), // not implemented
            (7, 60, Abi::Common, "exit", Some("sys_exit")),
            (
                8,
                512,
                Abi::X32,
                "rt_sigaction",
                Some("compat_sys_rt_sigaction")
            ),
        ]
    );
    assert!(
        rows.iter().all(|r| r.compat_entry.is_none()),
        "`-` is no compat entry point"
    );
    let with_compat = table("7 common poll sys_poll compat_sys_poll");
    assert_eq!(
        with_compat[0].compat_entry.as_deref(),
        Some("compat_sys_poll")
    );
}

#[test]
fn refuses_bad_lines_with_file_and_line() {
    let cases = [
        "0 common read sys_read\n\nx common write sys_write => t.tbl:3: bad syscall number \"x\"",
        "-1 common read sys_read => t.tbl:1: bad syscall number \"-1\"",
        "# i386 belongs in syscall_32.tbl\n1 i386 exit sys_exit => t.tbl:2: unknown ABI \"i386\"",
        "0 common 9read sys_read => t.tbl:1: bad syscall name \"9read\"",
        "0 common read sys-read => t.tbl:1: bad entry point \"sys-read\"",
        "0 common => t.tbl:1: expected `<number> <abi> <name>",
        "0 common read a b c => t.tbl:1: expected `<number> <abi> <name>",
        "\n\n13 x32 rt_sigaction x => t.tbl:3: x32 row \"rt_sigaction\" is numbered 13, below",
        "512 64 late sys_late => t.tbl:1: \"late\" is numbered 512, in the x32 range",
        "600 common late sys_late => t.tbl:1: \"late\" is numbered 600, in the x32 range",
    ];
    check_errors(&cases, table_error);
}

#[test]
fn refuses_clashes_within_a_view() {
    // common + 64 is the x64 view.
    let message = table_error("0 common read sys_read\n0 64 other sys_other");
    assert_eq!(
        message,
        "t.tbl:2: number 0 is taken by \"read\" (line 1) in the x64 table"
    );
    // common + x32 is the x32 view (its numbers cannot reach 512, so only
    // names can clash).
    let message = table_error("0 common read sys_read\n\n512 x32 read compat_sys_read");
    assert_eq!(
        message,
        "t.tbl:3: name \"read\" is taken by number 0 (line 1) in the x32 table"
    );
    assert!(table_error("512 x32 a x\n512 x32 b y")
        .starts_with("t.tbl:2: number 512 is taken by \"a\""));
    assert!(table_error("1 64 a x\n2 64 a y").starts_with("t.tbl:2: name \"a\" is taken"));
    // A 64 row and an x32 row share no table.
    table("19 64 readv sys_readv\n515 x32 readv sys_readv");
}

#[test]
fn views() {
    let rows = table(SMALL);
    let numbers = |view: Vec<&Row>| view.iter().map(|row| row.number).collect::<Vec<_>>();
    assert_eq!(numbers(x64_view(&rows).collect()), [0, 1, 13, 134, 60]);
    assert_eq!(numbers(x32_view(&rows).collect()), [0, 1, 60, 512]);
}

#[test]
fn parses_routes() {
    let rows = table(SMALL);
    let src =
        "# who\nread proc\n\nx32:rt_sigaction console\nrt_sigaction net_stack2\nexit kernel\n";
    let summary: Vec<_> = routes(&rows, src)
        .into_iter()
        .map(|r| (r.line, r.scope, r.name, r.handler))
        .collect();
    let server = |name: &str| Handler::Server(name.into());
    assert_eq!(
        summary,
        [
            (2, Scope::Native, "read".into(), server("proc")),
            (4, Scope::X32, "rt_sigaction".into(), server("console")),
            (
                5,
                Scope::Native,
                "rt_sigaction".into(),
                server("net_stack2")
            ),
            (6, Scope::Native, "exit".into(), Handler::Kernel),
        ]
    );
}

#[test]
fn refuses_bad_routes_with_file_and_line() {
    let rows = table(SMALL);
    let cases = [
        "read proc\n\nfrobnicate proc => r.tbl:3: unknown syscall \"frobnicate\"",
        "read proc\nwrite proc\nread kernel => r.tbl:3: duplicate route for \"read\" (first at line 1)",
        "x32:rt_sigaction a\nx32:rt_sigaction b => r.tbl:2: duplicate route for \"x32:rt_sigaction\"",
        "read Proc => r.tbl:1: bad handler \"Proc\"",
        "read 9p => r.tbl:1: bad handler \"9p\"",
        "read net-stack => r.tbl:1: bad handler \"net-stack\"",
        "read => r.tbl:1: expected `<name> <handler>`, found 1 columns",
        "read proc extra => r.tbl:1: expected `<name> <handler>`, found 3 columns",
        "x32:read proc => r.tbl:1: \"read\" is a common syscall, not x32-only",
        "x32:nope proc => r.tbl:1: unknown x32-only syscall \"nope\"",
        "uselib proc => r.tbl:1: syscall \"uselib\" (134) has no entry point",
        "read a_b\nwrite ab_\nexit a__b => r.tbl:3: server names \"a_b\" and \"a__b\" would both be `ServerId::AB`",
    ];
    check_errors(&cases, |src| routes_error(&rows, src));
}

#[test]
fn generates_a_tiny_table() {
    let rows = table(
        "0 common read sys_read\n1 common write sys_write\n3 64 ioctl sys_ioctl\n4 64 uselib\n",
    );
    let routes = routes(&rows, "write kernel\nioctl net_stack\nread proc\n");
    let expected = r#"// Generated by build.rs from syscall-table/syscall_64.tbl and
// syscall-table/routes.tbl. Do not edit: change the tables.

/// Servers named in routes.tbl, in order of first appearance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ServerId {
    NetStack = 0,
    Proc = 1,
}

impl ServerId {
    /// Every server, each at the index of its discriminant.
    pub const ALL: [ServerId; 2] = [ServerId::NetStack, ServerId::Proc];

    /// The name in routes.tbl, which is also the server's binary in the
    /// initrd (`servers/<name>`).
    pub const fn name(self) -> &'static str {
        match self {
            ServerId::NetStack => "net_stack",
            ServerId::Proc => "proc",
        }
    }
}

/// Table sizes: one past the highest number in each view.
pub const X64_NR: usize = 5;
/// Indexed by number without the x32 bit (`0x4000_0000`).
pub const X32_NR: usize = 2;

/// The x64 table: where a call of each number goes.
pub static X64_ROUTES: [Route; X64_NR] = [
    Route::Server(ServerId::Proc),      // 0 read
    Route::Kernel(handlers::sys_write), // 1 write
    Route::None,                        // 2
    Route::Server(ServerId::NetStack),  // 3 ioctl
    Route::None,                        // 4 uselib
];

/// The x32 table: where a call of each number goes.
pub static X32_ROUTES: [Route; X32_NR] = [
    Route::Server(ServerId::Proc),      // 0 read
    Route::Kernel(handlers::sys_write), // 1 write
];

/// The x64 table's names, for tracing; "" where no call has the number.
pub static X64_NAMES: [&str; X64_NR] = [
    "read",   // 0 read
    "write",  // 1 write
    "",       // 2
    "ioctl",  // 3 ioctl
    "uselib", // 4 uselib
];

/// The x32 table's names, for tracing; "" where no call has the number.
pub static X32_NAMES: [&str; X32_NR] = [
    "read",  // 0 read
    "write", // 1 write
];

"#;
    assert_eq!(generate(&rows, &routes), expected);
}

#[test]
fn generates_x32_routes_from_x32_rows() {
    let rows = table(
        "16 64 ioctl sys_ioctl\n39 common getpid sys_getpid\n514 x32 ioctl compat_sys_ioctl\n",
    );
    let routes = routes(&rows, "x32:ioctl kernel\ngetpid kernel\n");
    let out = generate(&rows, &routes);
    // Alignment differs per table; compare lines with spaces squeezed.
    let lines: Vec<String> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let count = |line: &str| lines.iter().filter(|l| *l == line).count();
    assert_eq!(count("pub const X32_NR: usize = 515;"), 1);
    assert_eq!(count("pub const X64_NR: usize = 40;"), 1);
    assert_eq!(
        count("Route::Kernel(handlers::compat_sys_ioctl), // 514 ioctl"),
        1
    );
    assert_eq!(count("Route::None, // 16 ioctl"), 1);
    // A common row's route and entry point serve both tables.
    assert_eq!(
        count("Route::Kernel(handlers::sys_getpid), // 39 getpid"),
        2
    );
    // No server routes: an empty ServerId, which may not have repr(u8).
    assert!(out.contains("pub enum ServerId {\n}") && !out.contains("repr(u8)"));
}

const REAL_TABLE: &str = include_str!("../syscall_64.tbl");
const REAL_ROUTES: &str = include_str!("../routes.tbl");

fn real_table() -> Vec<Row> {
    parse_table(REAL_TABLE, "syscall_64.tbl").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn real_table_facts() {
    let rows = real_table();
    let facts = [
        "0 common read sys_read",
        "1 common write sys_write",
        "13 64 rt_sigaction sys_rt_sigaction",
        "39 common getpid sys_getpid",
        "60 common exit sys_exit",
        "134 64 uselib",
        "231 common exit_group sys_exit_group",
        "435 common clone3 sys_clone3",
        "462 common mseal sys_mseal",
        "512 x32 rt_sigaction compat_sys_rt_sigaction",
        "547 x32 pwritev2 compat_sys_pwritev64v2",
    ];
    for fact in facts {
        let want = &table(fact)[0];
        let same = |r: &&Row| {
            (r.number, r.abi, &r.name, &r.entry) == (want.number, want.abi, &want.name, &want.entry)
        };
        assert!(
            rows.iter().any(|r| same(&r)),
            "syscall_64.tbl lacks `{fact}`"
        );
    }
    assert_eq!(
        rows.iter().filter(|r| r.abi == Abi::X32).count(),
        36,
        "x32 rows are 512..=547"
    );
    assert!(
        x64_view(&rows).all(|r| r.number < X32_FIRST),
        "the x64 view has nothing at 512"
    );
    assert!(!x64_view(&rows).any(|r| (337..424).contains(&r.number)));
}

#[test]
fn real_routes_and_generated_tables() {
    let rows = real_table();
    let routes = parse_routes(REAL_ROUTES, "routes.tbl", &rows).unwrap_or_else(|e| panic!("{e}"));
    // What the process server serves today; each must stay routed.
    for name in ["brk", "mmap", "arch_prctl", "exit_group", "getpid", "fork", "execve", "wait4"] {
        assert!(
            routes.iter().any(|r| r.name == name && r.handler == Handler::Server("proc".into())),
            "{name} is not routed to proc"
        );
    }
    // What every program's first output needs, wherever it is served.
    for name in ["write", "writev", "ioctl"] {
        assert!(routes.iter().any(|r| r.name == name), "{name} is not routed");
    }
    let out = generate(&rows, &routes);
    // Columns are aligned to the longest entry, so compare with runs of
    // spaces collapsed.
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for line in [
        "Route::Server(ServerId::Proc), // 231 exit_group",
        "Route::Kernel(handlers::sys_sched_yield), // 24 sched_yield",
    ] {
        assert!(flat.contains(line), "missing {line:?}");
    }
    assert!(out.contains("pub const X32_NR: usize = 548;"));
    compiles(&out);
    // Kernel routes, and a table with no servers at all, must compile too.
    let mixed = parse_routes(
        "getpid kernel\nx32:ioctl kernel\nwrite console\n",
        "mixed.tbl",
        &rows,
    )
    .unwrap();
    compiles(&generate(&rows, &mixed));
    compiles(&generate(&rows, &[]));
}

/// Compiles generated code against stand-ins for the kernel's `Route` and
/// `handlers`, the way the kernel `include!`s it, with warnings as errors.
fn compiles(generated: &str) {
    let dir = std::env::temp_dir().join(format!("lstar-syscall-table-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("syscall_table.rs"), generated).unwrap();
    let handlers: String = real_table()
        .iter()
        .filter_map(|row| row.entry.as_deref())
        .collect::<std::collections::BTreeSet<_>>()
        .iter()
        .map(|entry| format!("    pub fn {entry}() -> isize {{ -38 }}\n"))
        .collect();
    let stub = format!(
        "pub type Handler = fn() -> isize;\n\
         #[derive(Clone, Copy, Debug)]\n\
         pub enum Route {{ None, Kernel(Handler), Server(ServerId) }}\n\
         pub mod handlers {{\n{handlers}}}\n\
         include!(\"syscall_table.rs\");\n"
    );
    std::fs::write(dir.join("lib.rs"), stub).unwrap();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output = std::process::Command::new(rustc)
        .args([
            "--edition=2021",
            "--crate-type=lib",
            "--emit=metadata",
            "-Dwarnings",
            "--out-dir",
        ])
        .arg(&dir)
        .arg(dir.join("lib.rs"))
        .output()
        .expect("run rustc");
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        output.status.success(),
        "generated code does not compile:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
