//! A Ballista scheduler or executor on loopback, built from the Ballista
//! crates, for the tests' local cluster (`scripts/datafusion.sh`):
//!
//! ```text
//! ballista-node scheduler PORT
//! ballista-node executor SCHEDULER_PORT FLIGHT_PORT GRPC_PORT WORK_DIR
//! ```

use std::sync::Arc;

use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;

const HOST: &str = "127.0.0.1";

fn port(s: Option<&String>, what: &str) -> u16 {
    s.and_then(|p| p.parse().ok()).unwrap_or_else(|| {
        eprintln!("ballista-node: expected {what}, a port number");
        std::process::exit(2);
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(32 << 20)
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async {
        match args.first().map(String::as_str) {
            Some("scheduler") => {
                let config = SchedulerConfig {
                    bind_host: HOST.into(),
                    external_host: HOST.into(),
                    bind_port: port(args.get(1), "PORT"),
                    ..SchedulerConfig::default()
                };
                let addr = format!("{HOST}:{}", config.bind_port)
                    .parse()
                    .expect("a socket address");
                let cluster = BallistaCluster::new_from_config(&config).await?;
                start_server(cluster, addr, Arc::new(config)).await
            }
            Some("executor") => {
                let config = ExecutorProcessConfig {
                    bind_host: HOST.into(),
                    external_host: Some(HOST.into()),
                    scheduler_host: HOST.into(),
                    scheduler_port: port(args.get(1), "SCHEDULER_PORT"),
                    port: port(args.get(2), "FLIGHT_PORT"),
                    grpc_port: port(args.get(3), "GRPC_PORT"),
                    work_dir: args.get(4).cloned(),
                    vcores: 1,
                    ..ExecutorProcessConfig::default()
                };
                start_executor_process(Arc::new(config)).await
            }
            _ => {
                eprintln!(
                    "usage: ballista-node scheduler PORT | executor SCHEDULER_PORT FLIGHT_PORT GRPC_PORT WORK_DIR"
                );
                std::process::exit(2);
            }
        }
    });
    if let Err(e) = result {
        eprintln!("ballista-node: {e}");
        std::process::exit(1);
    }
}
