//! End-to-end tests: real git repositories in temporary directories, the real hook and binary.

mod catalog;
mod config;
mod content;
mod decoding;
mod docs;
mod entry_points;
mod fix;
mod fix_staging;
mod fixture;
mod formats;
mod framework;
mod git_flow;
mod hardening;
mod history;
mod index_formats;
mod install;
mod memory;
mod modes;
mod output;
mod pathological;
mod progress;
mod rules;
mod scan_files;
mod verify;
mod wheel;
