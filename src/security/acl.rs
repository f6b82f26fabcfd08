//! The ACLs that let the developer user do what `topic`, `produce` and `consume` need, created
//! through the brokers as the admin user (a super user). librdkafka has CreateAcls; the Rust
//! wrapper does not, so this calls it directly. Creating an ACL that exists changes nothing.

use rdkafka::admin::AdminClient;
use rdkafka::bindings as rd;
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;
use std::ffi::{CStr, CString};
use std::time::Duration;

/// One grant: an operation on every resource of a type (`*`, a literal name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub resource: rd::rd_kafka_ResourceType_t,
    pub operation: rd::rd_kafka_AclOperation_t,
}

/// The developer's grants ([`super::grants::DEVELOPER`]) as librdkafka names them.
pub fn developer_grants() -> Vec<Grant> {
    use super::grants::{Operation, Resource};
    use rd::rd_kafka_AclOperation_t::*;
    use rd::rd_kafka_ResourceType_t::*;
    let resource = |r| match r {
        Resource::Topic => RD_KAFKA_RESOURCE_TOPIC,
        Resource::Group => RD_KAFKA_RESOURCE_GROUP,
        Resource::TransactionalId => RD_KAFKA_RESOURCE_TRANSACTIONAL_ID,
        Resource::Cluster => RD_KAFKA_RESOURCE_BROKER,
    };
    let operation = |o| match o {
        Operation::Read => RD_KAFKA_ACL_OPERATION_READ,
        Operation::Write => RD_KAFKA_ACL_OPERATION_WRITE,
        Operation::Create => RD_KAFKA_ACL_OPERATION_CREATE,
        Operation::Delete => RD_KAFKA_ACL_OPERATION_DELETE,
        Operation::Describe => RD_KAFKA_ACL_OPERATION_DESCRIBE,
        Operation::DescribeConfigs => RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS,
        Operation::AlterConfigs => RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS,
    };
    super::grants::DEVELOPER
        .iter()
        .flat_map(|(r, ops)| {
            ops.iter().map(move |o| Grant {
                resource: resource(*r),
                operation: operation(*o),
            })
        })
        .collect()
}

/// The name ACLs give the one cluster resource.
const CLUSTER: &str = "kafka-cluster";

/// Allows `grants` to `principal` (`User:developer`) from any host, through a client made of
/// `config` (the admin's). Blocking: call it off the async runtime.
pub fn create(
    config: &ClientConfig,
    principal: &str,
    grants: &[Grant],
    timeout: Duration,
) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> = config
        .create()
        .map_err(|e| format!("cannot make an admin client: {e}"))?;
    let rk = admin.inner().native_ptr();
    let mut bindings = Vec::new();
    for grant in grants {
        bindings.push(binding(principal, *grant)?);
    }
    // SAFETY: `rk` lives as long as `admin`; the queue, options and bindings made here are
    // destroyed here, after the result event that refers to them is destroyed.
    unsafe {
        let queue = rd::rd_kafka_queue_new(rk);
        let options = rd::rd_kafka_AdminOptions_new(
            rk,
            rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_CREATEACLS,
        );
        let mut errstr = [0 as std::ffi::c_char; 256];
        rd::rd_kafka_AdminOptions_set_request_timeout(
            options,
            timeout.as_millis() as i32,
            errstr.as_mut_ptr(),
            errstr.len(),
        );
        rd::rd_kafka_CreateAcls(rk, bindings.as_mut_ptr(), bindings.len(), options, queue);
        let event = rd::rd_kafka_queue_poll(queue, (timeout.as_millis() + 1000) as i32);
        let outcome = read_result(event);
        if !event.is_null() {
            rd::rd_kafka_event_destroy(event);
        }
        for b in bindings {
            rd::rd_kafka_AclBinding_destroy(b);
        }
        rd::rd_kafka_AdminOptions_destroy(options);
        rd::rd_kafka_queue_destroy(queue);
        outcome
    }
}

fn binding(principal: &str, grant: Grant) -> Result<*mut rd::rd_kafka_AclBinding_t, String> {
    let name = match grant.resource {
        rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_BROKER => CLUSTER,
        _ => "*",
    };
    let name = CString::new(name).expect("no NUL");
    let principal = CString::new(principal).map_err(|_| "a principal with a NUL byte")?;
    let host = CString::new("*").expect("no NUL");
    let mut errstr = [0 as std::ffi::c_char; 256];
    // SAFETY: every pointer is to a live NUL-terminated string or to `errstr` with its length;
    // librdkafka copies the strings.
    let made = unsafe {
        rd::rd_kafka_AclBinding_new(
            grant.resource,
            name.as_ptr(),
            rd::rd_kafka_ResourcePatternType_t::RD_KAFKA_RESOURCE_PATTERN_LITERAL,
            principal.as_ptr(),
            host.as_ptr(),
            grant.operation,
            rd::rd_kafka_AclPermissionType_t::RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW,
            errstr.as_mut_ptr(),
            errstr.len(),
        )
    };
    if made.is_null() {
        // SAFETY: librdkafka wrote a NUL-terminated message into `errstr`.
        let said = unsafe { CStr::from_ptr(errstr.as_ptr()) };
        return Err(format!("a bad ACL: {}", said.to_string_lossy()));
    }
    Ok(made)
}

/// The first error of the CreateAcls result event, if any.
///
/// # Safety
/// `event` is null or an event from `rd_kafka_queue_poll`, not yet destroyed.
unsafe fn read_result(event: *mut rd::rd_kafka_event_t) -> Result<(), String> {
    if event.is_null() {
        return Err("the brokers did not answer in time".into());
    }
    if rd::rd_kafka_event_error(event) != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        return Err(text(rd::rd_kafka_event_error_string(event)));
    }
    let result = rd::rd_kafka_event_CreateAcls_result(event);
    if result.is_null() {
        return Err("an answer that is not a CreateAcls result".into());
    }
    let mut count = 0usize;
    let results = rd::rd_kafka_CreateAcls_result_acls(result, &mut count);
    for i in 0..count {
        let error = rd::rd_kafka_acl_result_error(*results.add(i));
        if !error.is_null() {
            return Err(text(rd::rd_kafka_error_string(error)));
        }
    }
    Ok(())
}

/// # Safety
/// `s` is null or a NUL-terminated string.
unsafe fn text(s: *const std::ffi::c_char) -> String {
    match s.is_null() {
        true => "an error without a message".into(),
        false => CStr::from_ptr(s).to_string_lossy().into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_developer_may_not_alter_the_cluster_or_its_acls() {
        use rd::rd_kafka_AclOperation_t::*;
        use rd::rd_kafka_ResourceType_t::*;
        let grants = developer_grants();
        let on_cluster: Vec<_> = grants
            .iter()
            .filter(|g| g.resource == RD_KAFKA_RESOURCE_BROKER)
            .map(|g| g.operation)
            .collect();
        assert_eq!(on_cluster, vec![RD_KAFKA_ACL_OPERATION_DESCRIBE]);
        assert!(!grants
            .iter()
            .any(|g| g.operation == RD_KAFKA_ACL_OPERATION_ALL));
        for g in &grants {
            binding("User:developer", *g)
                .map(|b| unsafe { rd::rd_kafka_AclBinding_destroy(b) })
                .unwrap();
        }
    }
}
