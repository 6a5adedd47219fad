//! The initrd: a cpio "newc" archive holding the servers, the program to run
//! and the files that tell the kernel how to start it. The writer is here,
//! by hand, because the format is a fixed ASCII header per entry.
//!
//! Layout:
//! - `servers/<name>`: every server binary;
//! - `lstar/vdso`: the vDSO image (`vdso/`), which the process server maps
//!   into every Linux process;
//! - `bin/<basename>`: the program;
//! - `lstar/exec`: the initrd path of the program (`bin/hello`), no newline;
//! - `lstar/argv`: each argument followed by a NUL byte; argv[0] is the
//!   program as the user wrote it;
//! - `lstar/envp`: each `K=V` followed by a NUL byte, sorted by name;
//! - with [`Extras`]: `bin/busybox` and a symbolic link to it for every
//!   applet where `busybox --list-full` puts it, and the trees of
//!   `--overlay` directories copied over the root (files, directories,
//!   symbolic links, modes).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};

use crate::build::Built;

/// The environment every program starts with before `--env` changes it.
pub const DEFAULT_ENV: [(&str, &str); 3] =
    [("HOME", "/"), ("PATH", "/bin:/usr/bin"), ("TERM", "linux")];

/// Said in `--help`; keep in step with DEFAULT_ENV.
pub const ENV_HELP: &str = "The program's environment is HOME=/ PATH=/bin:/usr/bin TERM=linux, \
    changed by each --env K=V, and passed sorted by name.";

/// The default program of `cargo xtask run` and `build`: tests/programs/hello.c.
pub const DEFAULT_PROGRAM: &str = "hello";

/// Parses `K=V` for `--env`.
pub fn parse_env(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected K=V, got {s:?}")),
    }
}

/// DEFAULT_ENV with `overrides` applied, sorted by name. Sorted because the
/// host runs of differential tests go through `std::process::Command`, which
/// passes its environment in name order.
pub fn environment(overrides: &[(String, String)]) -> Vec<(String, String)> {
    let mut env: BTreeMap<String, String> = DEFAULT_ENV
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.extend(overrides.iter().cloned());
    env.into_iter().collect()
}

/// The program one boot runs.
pub struct Payload {
    /// The binary on the host.
    pub host_path: PathBuf,
    /// Its name in the initrd's `bin/`.
    pub name: String,
    pub argv: Vec<OsString>,
    pub env: Vec<(String, String)>,
}

impl Payload {
    /// Test program `stem` as `/bin/<stem>`.
    pub fn test_program(
        built: &Built,
        stem: &str,
        args: &[&str],
        env: &[(String, String)],
    ) -> Result<Self> {
        let mut argv = vec![OsString::from(format!("/bin/{stem}"))];
        argv.extend(args.iter().map(OsString::from));
        Ok(Payload {
            host_path: built.program(stem)?.to_path_buf(),
            name: stem.into(),
            argv,
            env: environment(env),
        })
    }

    pub fn default_program(built: &Built, env: &[(String, String)]) -> Result<Self> {
        Self::test_program(built, DEFAULT_PROGRAM, &[], env)
    }

    /// The default of `cargo xtask run`: busybox's shell, interactive on the
    /// console (argv[0] `sh`; busybox picks the applet from it).
    pub fn shell(busybox: &Path, env: &[(String, String)]) -> Self {
        Payload { host_path: busybox.to_path_buf(), name: "busybox".into(), argv: vec![OsString::from("sh")], env: environment(env) }
    }

    /// busybox with the whole argv given (`["sh", "-c", "…"]`).
    pub fn busybox(busybox: &Path, argv: &[&str], env: &[(String, String)]) -> Self {
        Payload { host_path: busybox.to_path_buf(), name: "busybox".into(), argv: argv.iter().map(OsString::from).collect(), env: environment(env) }
    }

    /// A program xtask built (sqlite3), as `/bin/<its file name>`.
    pub fn built_program(path: &Path, args: &[&str], env: &[(String, String)]) -> Self {
        let name = path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut argv = vec![OsString::from(format!("/bin/{name}"))];
        argv.extend(args.iter().map(OsString::from));
        Payload { host_path: path.to_path_buf(), name, argv, env: environment(env) }
    }

    /// A binary given on the command line: argv[0] is `prog` as written.
    pub fn host_program(
        prog: &OsString,
        args: &[OsString],
        env: &[(String, String)],
    ) -> Result<Self> {
        let path = Path::new(prog);
        check_elf(path)?;
        let name = match path.file_name() {
            Some(name) => name.to_string_lossy().into_owned(),
            None => bail!("{} does not name a file", path.display()),
        };
        let mut argv = vec![prog.clone()];
        argv.extend_from_slice(args);
        Ok(Payload {
            host_path: path.to_path_buf(),
            name,
            argv,
            env: environment(env),
        })
    }
}

/// Fails unless `path` is an ELF file; warns when it wants a dynamic loader.
fn check_elf(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot run {}", path.display()))?;
    if !bytes.starts_with(b"\x7fELF") {
        bail!("cannot run {}: not an ELF executable", path.display());
    }
    let elf = xmas_elf::ElfFile::new(&bytes)
        .map_err(|e| anyhow!("cannot run {}: {e}", path.display()))?;
    if elf
        .program_iter()
        .any(|ph| matches!(ph.get_type(), Ok(xmas_elf::program::Type::Interp)))
    {
        eprintln!(
            "warning: {} is dynamically linked; Lstar runs static binaries",
            path.display()
        );
    }
    Ok(())
}

/// What a boot may carry besides the servers and the program.
#[derive(Default)]
pub struct Extras {
    /// busybox and its applets' paths in the root (`bin/ls`, `usr/bin/awk`).
    pub busybox: Option<(PathBuf, Vec<String>)>,
    /// Host directories whose trees are copied over the root, in order.
    pub overlays: Vec<PathBuf>,
}

/// Writes the initrd for `payload` with `built`'s servers and vDSO to `out`.
pub fn write(out: &Path, built: &Built, payload: &Payload) -> Result<()> {
    write_with(out, built, payload, &Extras::default())
}

/// Writes the initrd for `payload` with `built`'s servers and vDSO and
/// `extras` to `out`.
pub fn write_with(out: &Path, built: &Built, payload: &Payload, extras: &Extras) -> Result<()> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("read {}", p.display()));
    let mut cpio = Cpio::default();
    if let Some((busybox, applets)) = &extras.busybox {
        cpio.dir("bin");
        cpio.file("bin/busybox", 0o755, &read(busybox)?);
        for applet in applets {
            if applet == "bin/busybox" || applet == &format!("bin/{}", payload.name) {
                continue;
            }
            cpio.parents(applet);
            cpio.symlink(applet, "/bin/busybox");
        }
        // The resolver finds the machine's own name here, as on a Linux
        // system (`hostname -f`, `hostname -d`); "lstar" is the nodename
        // uname(2) reports (servers/proc).
        cpio.dir("etc");
        cpio.file("etc/hosts", 0o644, b"127.0.0.1\tlocalhost\n127.0.1.1\tlstar\n");
    }
    for dir in &extras.overlays {
        overlay(&mut cpio, dir, dir)?;
    }
    cpio.dir("servers");
    for (name, path) in &built.servers {
        cpio.file(&format!("servers/{name}"), 0o755, &read(path)?);
    }
    cpio.dir("bin");
    cpio.file(
        &format!("bin/{}", payload.name),
        0o755,
        &read(&payload.host_path)?,
    );
    cpio.dir("lstar");
    cpio.file("lstar/vdso", 0o644, &read(&built.vdso)?);
    cpio.file(
        "lstar/exec",
        0o644,
        format!("bin/{}", payload.name).as_bytes(),
    );
    cpio.file(
        "lstar/argv",
        0o644,
        &nul_terminated(payload.argv.iter().map(|a| a.as_bytes().to_vec())),
    );
    cpio.file(
        "lstar/envp",
        0o644,
        &nul_terminated(
            payload
                .env
                .iter()
                .map(|(k, v)| format!("{k}={v}").into_bytes()),
        ),
    );
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    std::fs::write(out, cpio.finish()).with_context(|| format!("write {}", out.display()))
}

/// Copies the tree under `dir` (rooted at `root`) into the archive.
fn overlay(cpio: &mut Cpio, root: &Path, dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("--overlay: cannot read {}", dir.display()))?
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("--overlay: cannot read {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let rel = path.strip_prefix(root).expect("under the overlay root");
        let name = rel.to_str().ok_or_else(|| anyhow!("--overlay: {} is not UTF-8", path.display()))?;
        let meta = std::fs::symlink_metadata(&path).with_context(|| format!("--overlay: {}", path.display()))?;
        let perm = meta.permissions().mode() & 0o7777;
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path)?;
            let target = target.to_str().ok_or_else(|| anyhow!("--overlay: link {} is not UTF-8", path.display()))?;
            cpio.symlink(name, target);
        } else if meta.is_dir() {
            cpio.dir_mode(name, perm);
            overlay(cpio, root, &path)?;
        } else if meta.is_file() {
            let data = std::fs::read(&path).with_context(|| format!("--overlay: read {}", path.display()))?;
            cpio.file(name, perm, &data);
        } else {
            eprintln!("warning: --overlay: skipping {} (not a file, directory or link)", path.display());
        }
    }
    Ok(())
}

fn nul_terminated(items: impl Iterator<Item = Vec<u8>>) -> Vec<u8> {
    items
        .flat_map(|mut item| {
            item.push(0);
            item
        })
        .collect()
}

const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;

/// A cpio "newc" (SVR4, no CRC) archive being written in memory.
#[derive(Default)]
pub struct Cpio {
    out: Vec<u8>,
    inodes: u32,
    dirs: std::collections::BTreeSet<String>,
}

impl Cpio {
    pub fn dir(&mut self, name: &str) {
        self.dir_mode(name, 0o755);
    }

    /// A directory, once (a later call for the same name is ignored).
    pub fn dir_mode(&mut self, name: &str, perm: u32) {
        if self.dirs.insert(name.to_string()) {
            self.entry(name, S_IFDIR | perm, 2, &[]);
        }
    }

    /// The directories above `path` (`usr` and `usr/bin` for `usr/bin/awk`).
    pub fn parents(&mut self, path: &str) {
        let mut at = 0;
        while let Some(i) = path[at..].find('/') {
            let dir = &path[..at + i];
            self.dir(dir);
            at += i + 1;
        }
    }

    pub fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, S_IFLNK | 0o777, 1, target.as_bytes());
    }

    pub fn file(&mut self, name: &str, perm: u32, data: &[u8]) {
        self.entry(name, S_IFREG | perm, 1, data);
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.header("TRAILER!!!", 0, 0, 1, 0);
        self.out
    }

    fn entry(&mut self, name: &str, mode: u32, nlink: u32, data: &[u8]) {
        // Distinct inode numbers: readers treat equal ones as hard links.
        self.inodes += 1;
        self.header(name, self.inodes, mode, nlink, data.len());
        self.out.extend_from_slice(data);
        self.pad();
    }

    /// The 110-byte header (magic and 13 fields of 8 hex digits), then the
    /// NUL-terminated name, padded so that the data starts 4-byte aligned.
    /// mtime, uid and gid are 0 so that the archive is reproducible.
    fn header(&mut self, name: &str, ino: u32, mode: u32, nlink: u32, size: usize) {
        let size = u32::try_from(size).expect("cpio newc entries are limited to 4 GiB");
        let namesize = u32::try_from(name.len() + 1).expect("cpio name too long");
        let fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, namesize, 0];
        self.out.extend_from_slice(b"070701");
        for field in fields {
            self.out
                .extend_from_slice(format!("{field:08X}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
    }

    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal newc reader, independent of the writer: (name, mode, data).
    fn parse(mut buf: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
        let start = buf.as_ptr() as usize;
        let mut entries = Vec::new();
        loop {
            assert_eq!(&buf[..6], b"070701");
            let field = |i: usize| {
                u32::from_str_radix(
                    std::str::from_utf8(&buf[6 + 8 * i..14 + 8 * i]).unwrap(),
                    16,
                )
                .unwrap()
            };
            let (mode, size, namesize) = (field(1), field(6) as usize, field(11) as usize);
            let name = std::str::from_utf8(&buf[110..110 + namesize - 1])
                .unwrap()
                .to_string();
            assert_eq!(buf[110 + namesize - 1], 0, "name is NUL-terminated");
            let data_at = (110 + namesize).next_multiple_of(4);
            let data = buf[data_at..data_at + size].to_vec();
            buf = &buf[(data_at + size).next_multiple_of(4)..];
            assert_eq!((buf.as_ptr() as usize - start) % 4, 0);
            if name == "TRAILER!!!" {
                assert!(buf.is_empty(), "nothing after the trailer");
                return entries;
            }
            entries.push((name, mode, data));
        }
    }

    #[test]
    fn newc_round_trip() {
        let mut cpio = Cpio::default();
        cpio.dir("bin");
        cpio.file("bin/x", 0o755, b"12345");
        cpio.file("lstar/exec", 0o644, b"bin/x");
        cpio.file("e", 0o644, b"");
        let bytes = cpio.finish();
        assert_eq!(bytes.len() % 4, 0);
        let entries = parse(&bytes);
        assert_eq!(
            entries,
            vec![
                ("bin".into(), 0o040_755, vec![]),
                ("bin/x".into(), 0o100_755, b"12345".to_vec()),
                ("lstar/exec".into(), 0o100_644, b"bin/x".to_vec()),
                ("e".into(), 0o100_644, vec![]),
            ]
        );
    }

    #[test]
    fn header_bytes() {
        let mut cpio = Cpio::default();
        cpio.file("ab", 0o644, b"xyz");
        let bytes = cpio.finish();
        let expect_header = "070701\
            00000001000081A4000000000000000000000001000000000000000300000000\
            00000000000000000000000000000003\
            00000000";
        assert_eq!(std::str::from_utf8(&bytes[..110]).unwrap(), expect_header);
        // 110 + "ab\0" = 113, padded to 116; 3 data bytes padded to 4.
        assert_eq!(&bytes[110..116], b"ab\0\0\0\0");
        assert_eq!(&bytes[116..120], b"xyz\0");
        assert_eq!(&bytes[120..126], b"070701");
    }

    #[test]
    fn environment_overrides_and_sorts() {
        let env = environment(&[("TERM".into(), "dumb".into()), ("FOO".into(), "bar".into())]);
        let env: Vec<String> = env.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            env,
            ["FOO=bar", "HOME=/", "PATH=/bin:/usr/bin", "TERM=dumb"]
        );
    }

    #[test]
    fn help_names_the_default_environment() {
        for (k, v) in DEFAULT_ENV {
            assert!(
                ENV_HELP.contains(&format!("{k}={v} ")) || ENV_HELP.contains(&format!("{k}={v},"))
            );
        }
    }

    #[test]
    fn env_parsing() {
        assert_eq!(parse_env("A=b=c"), Ok(("A".into(), "b=c".into())));
        assert_eq!(parse_env("A="), Ok(("A".into(), String::new())));
        assert!(parse_env("=x").is_err());
        assert!(parse_env("novalue").is_err());
    }

    #[test]
    fn argv_and_envp_files() {
        assert_eq!(
            nul_terminated([b"/bin/a".to_vec(), b"x".to_vec()].into_iter()),
            b"/bin/a\0x\0"
        );
        assert_eq!(nul_terminated(std::iter::empty()), b"");
    }
}
