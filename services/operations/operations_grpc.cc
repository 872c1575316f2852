#include "services/operations/operations_grpc.h"

#include <grpcpp/grpcpp.h>

#include "services/transport/grpc_status.h"
#include "services/transport/reactors.h"
#include "steward/v1/admin.grpc.pb.h"

namespace steward {
namespace {

// Every call may take as long as a backup: all run on the slow lane.
class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  AdminServiceImpl(const Authenticator* auth, const BackupDesk* b, SlowLane* slow)
      : auth_(*auth), b_(*b), slow_(*slow) {}
  grpc::ServerUnaryReactor* CreateBackup(grpc::CallbackServerContext* ctx, const v1::CreateBackupRequest* req,
                                         v1::BackupResponse* resp) override {
    return UnaryReadSlow(slow_, auth_, ctx, req, resp, &BackupDesk::Create, b_);
  }
  grpc::ServerUnaryReactor* ListBackups(grpc::CallbackServerContext* ctx, const v1::ListBackupsRequest* req,
                                        v1::ListBackupsResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &BackupDesk::List, b_);
  }
  grpc::ServerUnaryReactor* VerifyBackup(grpc::CallbackServerContext* ctx, const v1::VerifyBackupRequest* req,
                                         v1::BackupResponse* resp) override {
    return UnaryReadSlow(slow_, auth_, ctx, req, resp, &BackupDesk::Verify, b_);
  }
  grpc::ServerUnaryReactor* PurgeBackups(grpc::CallbackServerContext* ctx, const v1::PurgeBackupsRequest* req,
                                         v1::ListBackupsResponse* resp) override {
    return UnaryReadSlow(slow_, auth_, ctx, req, resp, &BackupDesk::Purge, b_);
  }

 private:
  const Authenticator& auth_;
  const BackupDesk& b_;
  SlowLane& slow_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeAdminService(const Authenticator* auth, const BackupDesk* backups, SlowLane* slow) {
  return std::make_unique<AdminServiceImpl>(auth, backups, slow);
}

}  // namespace steward
