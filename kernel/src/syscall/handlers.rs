//! Linux syscalls handled in the kernel itself. A row of routes.tbl that
//! says `kernel` names one of these by its entry-point symbol; each is here
//! for a measured reason, recorded next to it. None is routed yet.
