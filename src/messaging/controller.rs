//! The cluster's controller as the brokers name it, asked with the Admin API's
//! DescribeCluster (rdkafka has no safe wrapper for it, and its metadata answer drops the
//! controller id). In ZooKeeper mode that is the broker ZooKeeper elected; KRaft brokers
//! name any live broker, so KRaft asks the quorum instead (see `commands::status`).

use rdkafka::bindings as rd;
use rdkafka::client::Client;
use rdkafka::ClientContext;
use std::time::Duration;

/// Owns one librdkafka object and destroys it on every way out.
struct Owned<T>(*mut T, unsafe extern "C" fn(*mut T));

impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the pointer came from the matching librdkafka constructor.
            unsafe { (self.1)(self.0) }
        }
    }
}

/// The controller's broker id, or `None` when the cluster did not say within `timeout`.
/// Blocks: call it off the async threads.
pub fn controller_id<C: ClientContext>(client: &Client<C>, timeout: Duration) -> Option<i32> {
    let millis = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    let rk = client.native_ptr();
    // SAFETY: `rk` is the live client's handle; every object made here is destroyed by its
    // `Owned` guard, the event before the queue it came from.
    unsafe {
        let queue = Owned(rd::rd_kafka_queue_new(rk), rd::rd_kafka_queue_destroy);
        let op = rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DESCRIBECLUSTER;
        let options = Owned(
            rd::rd_kafka_AdminOptions_new(rk, op),
            rd::rd_kafka_AdminOptions_destroy,
        );
        let mut errstr = [0 as std::os::raw::c_char; 256];
        rd::rd_kafka_AdminOptions_set_request_timeout(
            options.0,
            millis,
            errstr.as_mut_ptr(),
            errstr.len(),
        );
        rd::rd_kafka_DescribeCluster(rk, options.0, queue.0);
        let event = Owned(
            rd::rd_kafka_queue_poll(queue.0, millis.saturating_add(500)),
            rd::rd_kafka_event_destroy,
        );
        if event.0.is_null()
            || rd::rd_kafka_event_error(event.0)
                != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
        {
            return None;
        }
        let result = rd::rd_kafka_event_DescribeCluster_result(event.0);
        if result.is_null() {
            return None;
        }
        let node = rd::rd_kafka_DescribeCluster_result_controller(result);
        (!node.is_null()).then(|| rd::rd_kafka_Node_id(node))
    }
}
