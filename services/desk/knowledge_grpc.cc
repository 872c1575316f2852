#include "services/desk/desk_grpc.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/transport/grpc_status.h"
#include "services/transport/reactors.h"
#include "steward/v1/knowledge.grpc.pb.h"

namespace steward {
namespace {

class KnowledgeServiceImpl final : public v1::KnowledgeService::CallbackService {
 public:
  KnowledgeServiceImpl(const Authenticator* auth, Knowledge* kb) : auth_(*auth), kb_(*kb) {}
  grpc::ServerUnaryReactor* SaveEntry(grpc::CallbackServerContext* ctx, const v1::SaveKbEntryRequest* req,
                                      v1::SaveKbEntryResponse* resp) override {
    return UnaryWrite(auth_, ctx, req, resp, &Knowledge::Save, kb_);
  }
  grpc::ServerUnaryReactor* GetEntry(grpc::CallbackServerContext* ctx, const v1::GetKbEntryRequest* req,
                                     v1::KbEntry* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Knowledge::Get, kb_);
  }
  grpc::ServerUnaryReactor* ListHistory(grpc::CallbackServerContext* ctx, const v1::ListKbHistoryRequest* req,
                                        v1::ListKbHistoryResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Knowledge::History, kb_);
  }
  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* ctx, const v1::SearchKbRequest* req,
                                   v1::SearchKbResponse* resp) override {
    return UnaryRead(auth_, ctx, req, resp, &Knowledge::Search, kb_);
  }

 private:
  const Authenticator& auth_;
  Knowledge& kb_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeKnowledgeService(const Authenticator* auth, Knowledge* kb) {
  return std::make_unique<KnowledgeServiceImpl>(auth, kb);
}

}  // namespace steward
