//! The Docker Engine, as the docker runner uses it: one bollard handle, its errors turned into
//! kafkup's own, and the few compound steps (pull with progress, run a one-off container).

use crate::report::Reporter;
use crate::runner::RunnerError;
use bollard::errors::Error as EngineError;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters as q;
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::Duration;

/// How long connecting and the version handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Engine {
    pub docker: Docker,
    /// Where it was reached: DOCKER_HOST or the default socket.
    pub endpoint: String,
}

/// Where kafkup looks for the Engine.
pub fn endpoint() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

impl Engine {
    /// Connects (DOCKER_HOST, unix socket or tcp) and agrees on an API version the daemon
    /// speaks (Debian's speaks 1.41).
    pub async fn connect() -> Result<Engine, RunnerError> {
        let endpoint = endpoint();
        let unavailable = |reason: String| RunnerError::Unavailable {
            kind: crate::runner::RunnerKind::Docker,
            reason,
            help: connect_help(&endpoint),
        };
        let docker = Docker::connect_with_defaults()
            .map_err(|e| unavailable(format!("cannot use {endpoint}: {e}")))?;
        let talk = async {
            let docker = docker.negotiate_version().await?;
            docker.ping().await?;
            Ok::<_, EngineError>(docker)
        };
        let docker = tokio::time::timeout(CONNECT_TIMEOUT, talk)
            .await
            .map_err(|_| {
                unavailable(format!(
                    "no Docker Engine answered at {endpoint} within 5 s"
                ))
            })?
            .map_err(|e| {
                unavailable(format!(
                    "no Docker Engine answers at {endpoint} ({})",
                    describe(&e)
                ))
            })?;
        Ok(Engine { docker, endpoint })
    }

    /// Whether the Engine has the image locally.
    pub async fn has_image(&self, image: &str) -> Result<bool, RunnerError> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(e) if not_found(&e) => Ok(false),
            Err(e) => Err(engine("inspect image", image, e)),
        }
    }

    /// The image, pulled (with progress) when it is not here yet.
    pub async fn ensure_image(
        &self,
        image: &str,
        reporter: &dyn Reporter,
    ) -> Result<(), RunnerError> {
        if self.has_image(image).await? {
            return Ok(());
        }
        reporter.step(&format!("pulling image {image}"));
        let (name, tag) = split_reference(image);
        let options = q::CreateImageOptionsBuilder::default()
            .from_image(name)
            .tag(tag)
            .build();
        let mut pull = self.docker.create_image(Some(options), None, None);
        let mut layers: HashMap<String, u64> = HashMap::new();
        while let Some(info) = pull.next().await {
            let info = info.map_err(|e| RunnerError::ImageMissing {
                image: image.to_string(),
                reason: describe(&e),
            })?;
            report_layer(&info, &mut layers, reporter);
        }
        for layer in layers.keys() {
            reporter.download_finished(layer);
        }
        Ok(())
    }

    /// Runs a one-off container to its end and returns (exit code, output); it is removed.
    pub async fn run_once(
        &self,
        name: &str,
        body: ContainerCreateBody,
    ) -> Result<(i64, String), RunnerError> {
        let _ = self.remove(name).await;
        let options = q::CreateContainerOptionsBuilder::default()
            .name(name)
            .build();
        self.docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| engine("create container", name, e))?;
        let result = self.start_and_wait(name).await;
        let output = self.output(name, None).await.unwrap_or_default();
        let _ = self.remove(name).await;
        Ok((result?, output))
    }

    async fn start_and_wait(&self, name: &str) -> Result<i64, RunnerError> {
        self.docker
            .start_container(name, None::<q::StartContainerOptions>)
            .await
            .map_err(|e| engine("start container", name, e))?;
        let waited = self
            .docker
            .wait_container(name, None::<q::WaitContainerOptions>)
            .next()
            .await;
        match waited {
            Some(Ok(r)) => Ok(r.status_code),
            // A non-zero exit comes back as an "error" carrying the code.
            Some(Err(EngineError::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(e)) => Err(engine("wait for container", name, e)),
            None => Err(engine(
                "wait for container",
                name,
                EngineError::RequestTimeoutError,
            )),
        }
    }

    /// A container's output (stdout and stderr, in order), the last `tail` lines or all.
    pub async fn output(&self, name: &str, tail: Option<usize>) -> Result<String, RunnerError> {
        let tail = tail.map_or("all".to_string(), |n| n.to_string());
        let options = q::LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&tail)
            .build();
        let mut logs = self.docker.logs(name, Some(options));
        let mut text = String::new();
        while let Some(chunk) = logs.next().await {
            let chunk = chunk.map_err(|e| engine("read the logs of", name, e))?;
            text.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        }
        Ok(text)
    }

    pub async fn remove(&self, name: &str) -> Result<(), RunnerError> {
        let options = q::RemoveContainerOptionsBuilder::default()
            .force(true)
            .build();
        let first = self
            .docker
            .remove_container(name, Some(options.clone()))
            .await;
        let result = match first {
            // Some Engines refuse to remove a paused container: unpause it, then again.
            Err(e) if !not_found(&e) => {
                let _ = self.docker.unpause_container(name).await;
                self.docker.remove_container(name, Some(options)).await
            }
            other => other,
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(engine("remove container", name, e)),
        }
    }

    /// `label=K=V` filters for the list calls.
    pub fn label_filter(key: &str, value: &str) -> HashMap<String, Vec<String>> {
        HashMap::from([("label".to_string(), vec![format!("{key}={value}")])])
    }
}

fn report_layer(
    info: &bollard::models::CreateImageInfo,
    layers: &mut HashMap<String, u64>,
    reporter: &dyn Reporter,
) {
    let (Some(id), Some(detail)) = (&info.id, &info.progress_detail) else {
        return;
    };
    let (Some(current), total) = (detail.current, detail.total) else {
        return;
    };
    let current = current.max(0) as u64;
    let seen = match layers.get(id) {
        Some(seen) => *seen,
        None => {
            reporter.download_started(id, total.map(|t| t.max(0) as u64), 0);
            0
        }
    };
    if current > seen {
        reporter.download_progress(id, current - seen);
    }
    layers.insert(id.clone(), current.max(seen));
}

/// `registry:5000/repo/name:tag` → (`registry:5000/repo/name`, `tag`), `latest` by default.
pub fn split_reference(image: &str) -> (&str, &str) {
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rfind(':') {
        Some(i) => {
            let cut = image.len() - last.len() + i;
            (&image[..cut], &image[cut + 1..])
        }
        None => (image, "latest"),
    }
}

pub fn not_found(e: &EngineError) -> bool {
    matches!(
        e,
        EngineError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// The Engine's own message where it sent one.
pub fn describe(e: &EngineError) -> String {
    match e {
        EngineError::DockerResponseServerError { message, .. } => message.clone(),
        other => {
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            text
        }
    }
}

pub fn engine(action: &str, what: &str, e: EngineError) -> RunnerError {
    RunnerError::Engine {
        action: format!("{action} {what}"),
        reason: describe(&e),
    }
}

fn connect_help(endpoint: &str) -> String {
    let socket = endpoint.strip_prefix("unix://").unwrap_or("");
    let denied = !socket.is_empty()
        && std::fs::metadata(socket).is_ok()
        && nix::unistd::access(socket, nix::unistd::AccessFlags::W_OK).is_err();
    if denied {
        return format!(
            "{socket} is not yours to use: add yourself to its group (`sudo usermod -aG docker $USER`, then log in again), or run kafkup with sudo"
        );
    }
    "start the Docker Engine (`sudo systemctl start docker`), point DOCKER_HOST at one that runs, or use --backend process".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_name_and_tag() {
        assert_eq!(
            split_reference("eclipse-temurin:17-jre"),
            ("eclipse-temurin", "17-jre")
        );
        assert_eq!(
            split_reference("127.0.0.1:5000/kafkup/jre:17"),
            ("127.0.0.1:5000/kafkup/jre", "17")
        );
        assert_eq!(
            split_reference("127.0.0.1:5000/jre"),
            ("127.0.0.1:5000/jre", "latest")
        );
        assert_eq!(split_reference("ubuntu"), ("ubuntu", "latest"));
    }
}
