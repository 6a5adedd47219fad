//! Builds the four kinds of binaries that go into a boot: the kernel, the
//! servers, the vDSO (all `x86_64-unknown-none`, with the RUSTFLAGS each
//! needs) and the C test programs (static musl).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};

use crate::{deps, Ctx};

const BARE_TARGET: &str = "x86_64-unknown-none";

/// The kernel is linked at a fixed higher-half address; frame pointers give
/// its panic backtraces something to walk.
const KERNEL_RUSTFLAGS: &str =
    "-C relocation-model=static -C code-model=kernel -C force-frame-pointers=yes";

/// Servers are static user programs in the low half.
const SERVER_RUSTFLAGS: &str = "-C relocation-model=static -C force-frame-pointers=yes";

/// The vDSO is a shared object: position-independent code (small model,
/// anywhere in the address space), linked `-shared` (the target's default
/// static PIE turned off) by its own linker script and version script, with
/// the symbol tables musl's lookup reads (both hash styles), without debug
/// information or unwind tables to keep the image within a page. See
/// vdso/src/main.rs and docs/decisions.md D26.
fn vdso_rustflags(root: &Path) -> String {
    let dir = root.join("vdso");
    format!(
        "-C relocation-model=pic -C code-model=small -C force-unwind-tables=no -C strip=debuginfo \
         -C link-arg=--no-pie -C link-arg=-shared -C link-arg=-soname=linux-vdso.so.1 \
         -C link-arg=--version-script={} -C link-arg=-T{} -C link-arg=--hash-style=both \
         -C link-arg=--build-id=none",
        dir.join("vdso.map").display(),
        dir.join("vdso.ld").display()
    )
}

/// Everything one boot is made of, as host paths.
pub struct Built {
    pub kernel: PathBuf,
    /// (binary name, path) of every server, sorted by name.
    pub servers: Vec<(String, PathBuf)>,
    /// The vDSO image (`lstar/vdso` in the initrd).
    pub vdso: PathBuf,
    /// (stem, path) of every C test program, sorted by stem.
    pub programs: Vec<(String, PathBuf)>,
}

impl Built {
    pub fn program(&self, stem: &str) -> Result<&Path> {
        match self.programs.iter().find(|(s, _)| s == stem) {
            Some((_, path)) => Ok(path),
            None => bail!("no test program tests/programs/{stem}.c"),
        }
    }
}

/// Builds the kernel, every server and every C test program.
pub fn all(ctx: &Ctx) -> Result<Built> {
    let kernel = kernel(ctx)?;
    let servers = servers(ctx)?;
    let vdso = vdso(ctx)?;
    let programs = programs(ctx)?;
    Ok(Built {
        kernel,
        servers,
        vdso,
        programs,
    })
}

/// A cargo command for the bare-metal target. The kernel and the servers use
/// separate target directories because their RUSTFLAGS differ, and RUSTFLAGS
/// are set here and nowhere else.
fn cargo_bare(ctx: &Ctx, target_dir: &str, rustflags: &str) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&ctx.root)
        .args([
            "build",
            "--release",
            "--target",
            BARE_TARGET,
            "--target-dir",
        ])
        .arg(ctx.root.join(target_dir))
        .env("RUSTFLAGS", rustflags)
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    if !ctx.verbose {
        // Progress lines only; warnings and errors still show.
        cmd.arg("--quiet");
    }
    cmd
}

fn release_dir(ctx: &Ctx, target_dir: &str) -> PathBuf {
    ctx.root.join(target_dir).join(BARE_TARGET).join("release")
}

fn kernel(ctx: &Ctx) -> Result<PathBuf> {
    ctx.run(cargo_bare(ctx, "target/kernel", KERNEL_RUSTFLAGS).args(["-p", "lstar-kernel"]))
        .context("building the kernel")?;
    Ok(release_dir(ctx, "target/kernel").join("lstar-kernel"))
}

/// The kernel with its phase probes compiled in (the `probes` feature), for
/// the bench's breakdown; in a target directory of its own so neither build
/// undoes the other.
pub fn kernel_with_probes(ctx: &Ctx) -> Result<PathBuf> {
    ctx.run(
        cargo_bare(ctx, "target/kernel-probes", KERNEL_RUSTFLAGS)
            .args(["-p", "lstar-kernel", "--features", "probes"]),
    )
    .context("building the kernel with probes")?;
    Ok(release_dir(ctx, "target/kernel-probes").join("lstar-kernel"))
}

/// The server names: every `servers/<name>/` with a Cargo.toml, whose package
/// is `<name>-server` and whose binary is `<name>`.
pub fn server_names(root: &Path) -> Result<Vec<String>> {
    let dir = root.join("servers");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("read {}", dir.display()))? {
        let entry = entry?;
        if entry.path().join("Cargo.toml").is_file() {
            names.push(
                entry
                    .file_name()
                    .into_string()
                    .map_err(|n| anyhow::anyhow!("bad server name {n:?}"))?,
            );
        }
    }
    names.sort();
    Ok(names)
}

fn servers(ctx: &Ctx) -> Result<Vec<(String, PathBuf)>> {
    let names = server_names(&ctx.root)?;
    if names.is_empty() {
        eprintln!("warning: no servers under servers/");
        return Ok(Vec::new());
    }
    let mut cmd = cargo_bare(ctx, "target/servers", SERVER_RUSTFLAGS);
    for name in &names {
        cmd.args(["-p", &format!("{name}-server")]);
    }
    ctx.run(&mut cmd).context("building the servers")?;
    let out = release_dir(ctx, "target/servers");
    Ok(names
        .into_iter()
        .map(|name| (name.clone(), out.join(name)))
        .collect())
}

fn vdso(ctx: &Ctx) -> Result<PathBuf> {
    let flags = vdso_rustflags(&ctx.root);
    ctx.run(cargo_bare(ctx, "target/vdso", &flags).args(["-p", "lstar-vdso"]))
        .context("building the vDSO")?;
    let path = release_dir(ctx, "target/vdso").join("vdso");
    let image = std::fs::read(&path).with_context(|| format!("read {}", path.display()))?;
    check_vdso(&image).with_context(|| format!("{} is not a usable vDSO", path.display()))?;
    Ok(path)
}

/// What the process server relies on when it copies the vDSO file into a
/// process as it is: a shared object whose one loadable segment starts at
/// file offset and address 0, not writable, with nothing to relocate (no
/// loader ever looks at it).
fn check_vdso(image: &[u8]) -> Result<()> {
    use xmas_elf::program::Type;
    use xmas_elf::sections::SectionData;
    let elf = xmas_elf::ElfFile::new(image).map_err(|e| anyhow::anyhow!("{e}"))?;
    if elf.header.pt2.type_().as_type() != xmas_elf::header::Type::SharedObject {
        bail!("not a shared object");
    }
    let loads: Vec<_> = elf
        .program_iter()
        .filter(|p| p.get_type() == Ok(Type::Load))
        .collect();
    match loads.as_slice() {
        [p] if p.offset() == 0 && p.virtual_addr() == 0 && !p.flags().is_write() => {}
        _ => bail!("wants one read-only PT_LOAD at offset and address 0"),
    }
    if let Some(dynamic) = elf.find_section_by_name(".dynamic") {
        if let Ok(SectionData::Dynamic64(entries)) = dynamic.get_data(&elf) {
            use xmas_elf::dynamic::Tag;
            for d in entries {
                if matches!(d.get_tag(), Ok(Tag::Rela | Tag::Rel | Tag::JmpRel | Tag::TextRel)) {
                    bail!("has dynamic relocations");
                }
            }
        }
    }
    Ok(())
}

/// Compiles every `tests/programs/*.c` into `target/lstar/programs/<stem>`.
fn programs(ctx: &Ctx) -> Result<Vec<(String, PathBuf)>> {
    let src_dir = ctx.root.join("tests/programs");
    let out_dir = ctx.out().join("programs");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("create {}", out_dir.display()))?;
    let include = deps::kernel_header_dir(ctx)?;
    // The programs' shared headers (tests/programs/*.h): a program is
    // rebuilt when it or any of them is newer than its binary.
    let headers: Vec<PathBuf> = std::fs::read_dir(&src_dir)
        .with_context(|| format!("read {}", src_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "h"))
        .collect();
    let mut programs = Vec::new();
    for entry in
        std::fs::read_dir(&src_dir).with_context(|| format!("read {}", src_dir.display()))?
    {
        let src = entry?.path();
        if src.extension().is_none_or(|ext| ext != "c") {
            continue;
        }
        let Some(stem) = src.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let out = out_dir.join(stem);
        if !is_newer(&out, &src) || headers.iter().any(|h| !is_newer(&out, h)) {
            if stem.ends_with("_pie") {
                static_pie(ctx, &include, &src, &out)
            } else {
                ctx.run(
                    Command::new("musl-gcc")
                        .args(["-static", "-O2", "-Wall", "-isystem"])
                        .arg(&include)
                        .arg("-o")
                        .arg(&out)
                        .arg(&src),
                )
            }
            .with_context(|| format!("compiling {}", src.display()))?;
        }
        programs.push((stem.to_string(), out));
    }
    programs.sort();
    Ok(programs)
}

/// Builds a static-PIE program (`*_pie.c`). Debian's musl-gcc specs always
/// name a dynamic linker, so compile with musl-gcc and link by hand with
/// musl's self-relocating start file, rcrt1.o.
fn static_pie(ctx: &Ctx, include: &Path, src: &Path, out: &Path) -> Result<()> {
    let musl = Path::new("/usr/lib/x86_64-linux-musl");
    let object = out.with_extension("o");
    ctx.run(Command::new("musl-gcc").args(["-fPIE", "-O2", "-Wall", "-c", "-isystem"]).arg(include).arg("-o").arg(&object).arg(src))?;
    let gcc_file = |name: &str| -> Result<PathBuf> {
        let o = Command::new("gcc").arg(format!("-print-file-name={name}")).output().context("running gcc")?;
        Ok(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
    };
    ctx.run(
        Command::new("gcc")
            .args(["-static-pie", "-nostdlib", "-nostartfiles", "-o"])
            .arg(out)
            .arg(musl.join("rcrt1.o"))
            .arg(musl.join("crti.o"))
            .arg(gcc_file("crtbeginS.o")?)
            .arg(&object)
            .arg(musl.join("libc.a"))
            .arg(gcc_file("libgcc.a")?)
            .arg(gcc_file("crtendS.o")?)
            .arg(musl.join("crtn.o")),
    )
}

/// Whether `out` exists and was written after `src` changed.
fn is_newer(out: &Path, src: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(out), modified(src)), (Some(o), Some(s)) if o > s)
}
